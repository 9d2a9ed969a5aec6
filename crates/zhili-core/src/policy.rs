//! The one access policy (访问控制策略): role × action × jurisdiction.
//!
//! Every access decision in Zhili goes through [`authorize`]. A role grants actions; a
//! jurisdiction (辖区, a division subtree) bounds the records the action may touch. A record
//! outside the jurisdiction is reported as "not found", so its existence does not leak.

use crate::codes::DivisionCode;
use serde::{Deserialize, Serialize};

/// A role (角色). Each user holds exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员: manages users, departments, divisions and reads the audit log.
    Admin,
    /// 领导: reads everything in their jurisdiction; of cases, decides extensions, shelving and deferral.
    Leader,
    /// 受理员/派遣员/值班长: command-centre operator and dispatcher.
    Operator,
    /// 专业部门人员: handles what is dispatched to their department.
    DepartmentStaff,
    /// 网格员: reports and verifies in their grids.
    GridWorker,
    /// 群众: anonymous member of the public.
    Public,
}

impl Role {
    /// Every role, for tables and tests.
    pub const ALL: [Role; 6] =
        [Role::Admin, Role::Leader, Role::Operator, Role::DepartmentStaff, Role::GridWorker, Role::Public];

    /// Stable name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::Operator => "operator",
            Role::DepartmentStaff => "department_staff",
            Role::GridWorker => "grid_worker",
            Role::Public => "public",
        }
    }

    /// Parse the stable name.
    pub fn from_name(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Chinese label for the UI.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::Leader => "领导",
            Role::Operator => "受理/派遣员",
            Role::DepartmentStaff => "部门人员",
            Role::GridWorker => "网格员",
            Role::Public => "群众",
        }
    }

    /// English label for the UI.
    pub fn label_en(self) -> &'static str {
        match self {
            Role::Admin => "System administrator",
            Role::Leader => "Leader",
            Role::Operator => "Operator / dispatcher",
            Role::DepartmentStaff => "Department staff",
            Role::GridWorker => "Grid worker",
            Role::Public => "Public",
        }
    }
}

/// Something a principal may want to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read administrative divisions (public information).
    ReadDivisions,
    /// Create or change divisions.
    ManageDivisions,
    /// Read departments.
    ReadDepartments,
    /// Create or change departments.
    ManageDepartments,
    /// List and read user accounts (personal data masked).
    ReadUsers,
    /// See personal data (phone, identity number) unmasked.
    ReadPersonalData,
    /// Create users, change roles, reset passwords.
    ManageUsers,
    /// Read one's own profile and change one's own settings.
    ReadOwnProfile,
    /// Read the audit log.
    ReadAudit,
    /// Verify the audit hash chain.
    VerifyAudit,
    /// Read grids (a grid worker: only their own grids and those below them).
    ReadGrids,
    /// Import grids and assign grid workers.
    ManageGrids,
    /// Report a case (上报): grid workers, operators (hotline), administrators. (The public
    /// reports through the public page and Open311, which need no login.)
    ReportCase,
    /// Read cases and act on them as the closed loop's transition table allows (a department:
    /// its own cases; a grid worker: cases in their grids).
    ReadCases,
    /// Change the case catalogue and the working-time calendar.
    ManageCaseSettings,
    /// Read the flash-flood network, observations and warnings (山洪监测数据与预警).
    ReadFlood,
    /// Send observations of flood stations (JSON over HTTP): station integrations and shared
    /// stations of other agencies, through a token of an operator or administrator.
    IngestFloodObservations,
    /// Change the flood network (stations, villages at risk, indicators) and decide on
    /// quarantined stations (待确认测站).
    ManageFloodNetwork,
    /// Act on flood warnings as the duty officer (值班员): raise by judgement, issue the public
    /// warning, lift.
    ManageFloodWarnings,
    /// Acknowledge a flood warning sent to oneself (责任人确认).
    AcknowledgeFloodWarning,
}

impl Action {
    /// Every action, for tables and tests.
    pub const ALL: [Action; 20] = [
        Action::ReadDivisions,
        Action::ManageDivisions,
        Action::ReadDepartments,
        Action::ManageDepartments,
        Action::ReadUsers,
        Action::ReadPersonalData,
        Action::ManageUsers,
        Action::ReadOwnProfile,
        Action::ReadAudit,
        Action::VerifyAudit,
        Action::ReadGrids,
        Action::ManageGrids,
        Action::ReportCase,
        Action::ReadCases,
        Action::ManageCaseSettings,
        Action::ReadFlood,
        Action::IngestFloodObservations,
        Action::ManageFloodNetwork,
        Action::ManageFloodWarnings,
        Action::AcknowledgeFloodWarning,
    ];
}

/// Which roles a role grants an action to. The single source of truth.
fn role_allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        ReadDivisions => true,
        ReadDepartments | ReadOwnProfile | ReadGrids | ReadCases | ReadFlood | AcknowledgeFloodWarning => {
            role != Public
        }
        IngestFloodObservations => matches!(role, Admin | Operator),
        ManageFloodWarnings => matches!(role, Admin | Leader | Operator),
        ReportCase => matches!(role, Admin | Operator | GridWorker),
        ReadUsers => matches!(role, Admin | Leader | Operator),
        ReadPersonalData => matches!(role, Admin | Operator),
        ManageDivisions | ManageDepartments | ManageUsers | ReadAudit | VerifyAudit | ManageGrids
        | ManageCaseSettings | ManageFloodNetwork => role == Admin,
    }
}

/// Who is acting: a logged-in user, or the anonymous public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// User id; `None` for the anonymous public.
    pub user_id: Option<i64>,
    /// Login name (or `anonymous`).
    pub username: String,
    /// The role held.
    pub role: Role,
    /// The division subtree this principal may see; `None` for the public.
    pub jurisdiction: Option<DivisionCode>,
    /// The department the user belongs to, if any.
    pub department_id: Option<i64>,
}

impl Principal {
    /// The anonymous public.
    pub fn anonymous() -> Principal {
        Principal {
            user_id: None,
            username: "anonymous".into(),
            role: Role::Public,
            jurisdiction: None,
            department_id: None,
        }
    }

    /// A system principal for CLI jobs (migrations, demo seeding, `zhili user add`).
    pub fn system(root: DivisionCode) -> Principal {
        Principal {
            user_id: None,
            username: "system".into(),
            role: Role::Admin,
            jurisdiction: Some(root),
            department_id: None,
        }
    }

    /// Whether a record seated in `division` concerns this principal: it lies inside the
    /// jurisdiction, or on the chain above it (a county department serves every village).
    pub fn concerns(&self, division: &DivisionCode) -> bool {
        self.sees(division) || self.jurisdiction.as_ref().is_some_and(|j| division.contains(j))
    }

    /// Whether a record in `division` lies inside this principal's jurisdiction.
    pub fn sees(&self, division: &DivisionCode) -> bool {
        match &self.jurisdiction {
            Some(j) => j.contains(division),
            None => self.role == Role::Public,
        }
    }
}

/// Why access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Not logged in, and the action needs a login.
    #[error("authentication required")]
    Unauthenticated,
    /// The role does not grant the action.
    #[error("role does not allow this action")]
    Role,
    /// The record lies outside the jurisdiction (answered as not found).
    #[error("outside jurisdiction")]
    OutsideJurisdiction,
}

/// Decide one access: may `who` do `action` on a record located in `scope` (if any)?
pub fn authorize(who: &Principal, action: Action, scope: Option<&DivisionCode>) -> Result<(), Denied> {
    if !role_allows(who.role, action) {
        return Err(if who.role == Role::Public { Denied::Unauthenticated } else { Denied::Role });
    }
    if let Some(scope) = scope {
        if who.role != Role::Public && !who.sees(scope) {
            return Err(Denied::OutsideJurisdiction);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, j: &str) -> Principal {
        Principal {
            user_id: Some(1),
            username: "u".into(),
            role,
            jurisdiction: Some(DivisionCode::parse(j).unwrap()),
            department_id: None,
        }
    }

    #[test]
    fn jurisdiction_bounds_every_role() {
        let village = DivisionCode::parse("370304100201").unwrap();
        let other = DivisionCode::parse("370304101201").unwrap();
        for role in [Role::Admin, Role::Leader, Role::Operator] {
            let p = user(role, "370304100");
            assert_eq!(authorize(&p, Action::ReadUsers, Some(&village)), Ok(()));
            assert_eq!(authorize(&p, Action::ReadUsers, Some(&other)), Err(Denied::OutsideJurisdiction));
        }
        let gw = user(Role::GridWorker, "370304100201");
        assert_eq!(authorize(&gw, Action::ReadUsers, Some(&village)), Err(Denied::Role));
        assert_eq!(authorize(&gw, Action::ReadDepartments, Some(&other)), Err(Denied::OutsideJurisdiction));
    }

    #[test]
    fn public_is_unauthenticated_for_private_actions() {
        let p = Principal::anonymous();
        assert_eq!(authorize(&p, Action::ReadDivisions, None), Ok(()));
        for a in Action::ALL {
            if a != Action::ReadDivisions {
                assert_eq!(authorize(&p, a, None), Err(Denied::Unauthenticated), "{a:?}");
            }
        }
    }
}
