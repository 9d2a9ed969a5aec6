//! Who is told (通知对象): a department's staff, the operators of a township or a county, the
//! leaders over a place. A module decides which audience an event concerns; [`recipients`]
//! turns it into user ids through the core user store.

use zhili_core::codes::{DivisionCode, DivisionLevel};
use zhili_core::model::User;
use zhili_core::policy::Role;
use zhili_core::store::{Page, Store, StoreResult, UserFilter};

/// Most recipients of one audience (the first ones by the store's user order).
pub const MAX_RECIPIENTS: i64 = 1000;

/// An audience.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Audience {
    /// 部门人员: the active department-staff users of the department.
    DepartmentStaff(i64),
    /// 指挥人员: the active operators whose jurisdiction is exactly this division (a township's
    /// centre, the county's command centre).
    OperatorsOf(DivisionCode),
    /// 领导: the active leaders of the division's county whose jurisdiction covers the division.
    LeadersOver(DivisionCode),
}

/// The user ids of an audience, at most [`MAX_RECIPIENTS`].
pub async fn recipients(store: &dyn Store, audience: &Audience) -> StoreResult<Vec<i64>> {
    let filter = match audience {
        Audience::DepartmentStaff(id) => {
            UserFilter { role: Some(Role::DepartmentStaff), department_id: Some(*id), within: None, text: None }
        }
        Audience::OperatorsOf(d) => {
            UserFilter { within: Some(d.clone()), role: Some(Role::Operator), department_id: None, text: None }
        }
        Audience::LeadersOver(d) => {
            UserFilter { within: Some(county_of(d)), role: Some(Role::Leader), department_id: None, text: None }
        }
    };
    let users = store.users(&filter, Page { offset: 0, limit: MAX_RECIPIENTS }).await?;
    Ok(users.into_iter().filter(|u| u.active && admits(audience, u)).map(|u| u.id).collect())
}

/// Whether a user the audience's filter found belongs to it.
fn admits(audience: &Audience, u: &User) -> bool {
    match audience {
        Audience::DepartmentStaff(_) => true,
        Audience::OperatorsOf(d) => u.jurisdiction == *d,
        Audience::LeadersOver(d) => u.jurisdiction.contains(d),
    }
}

/// The township (乡级) a division lies in, if it lies below a county.
pub fn township_of(d: &DivisionCode) -> Option<DivisionCode> {
    match d.level() {
        DivisionLevel::County => None,
        DivisionLevel::Township => Some(d.clone()),
        DivisionLevel::Village => d.parent(),
    }
}

/// The county (县级) a division lies in.
pub fn county_of(d: &DivisionCode) -> DivisionCode {
    let mut c = d.clone();
    while let Some(p) = c.parent() {
        c = p;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn townships_and_counties_of_a_division() {
        let v = DivisionCode::parse("370304001001").unwrap();
        let t = DivisionCode::parse("370304001").unwrap();
        let c = DivisionCode::parse("370304").unwrap();
        assert_eq!(township_of(&v), Some(t.clone()));
        assert_eq!(township_of(&t), Some(t.clone()));
        assert_eq!(township_of(&c), None);
        assert_eq!((county_of(&v), county_of(&t), county_of(&c)), (c.clone(), c.clone(), c));
    }
}
