//! The case closed loop (案件闭环) as a pure state machine.
//!
//! Cases move 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案 → 评价 with the side paths 作废, 回退, 延期,
//! 返工, 挂账, 缓办 and 重新打开 (GB/T 30428, CJ/T 315). This module decides, for a case's
//! [`CaseStatus`], a [`Role`] and a [`Command`], whether the command applies, what it requires,
//! what it counts and which time-limit clock it starts, stops, pauses or extends — and nothing
//! else: it reads no clock and computes no deadline. The caller turns [`ClockEffect`]s into
//! deadlines with the catalogue's time limits and the working-time calendar, checks that a
//! department's staff act only on cases assigned to their department
//! ([`CommandKind::requires_assigned_department`]), and stores the [`StepRecord`] in the timeline.
//!
//! [`TRANSITIONS`] is the one table of who may do what from which state; [`apply`] and [`allowed`]
//! both read it, so the buttons a UI shows are exactly the commands that succeed.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use zhili_core::{ErrorCode, Role};

/// A case's place in the loop (案件状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 已上报（待立案）: reported, waiting for the operator to file or void it.
    Reported,
    /// 已立案（待派遣）: filed, waiting to be dispatched.
    Filed,
    /// 已派遣（待签收）: dispatched to a department, not yet accepted.
    Dispatched,
    /// 处置中: the department has accepted and is handling it.
    Handling,
    /// 已反馈（待核查）: the department reported back with a result and photos.
    Responded,
    /// 已核查（待结案）: verified on site as done, waiting to be closed.
    Verified,
    /// 已结案: closed.
    Closed,
    /// 已评价: closed and evaluated by the reporter or the centre.
    Evaluated,
    /// 挂账: cannot be solved now; kept on the problem list.
    Shelved,
    /// 缓办: handling deferred; the handling clock is paused.
    Deferred,
    /// 已作废: invalid or duplicate report.
    Voided,
}

impl CaseState {
    /// Every state, in loop order.
    pub const ALL: [CaseState; 11] = [
        CaseState::Reported,
        CaseState::Filed,
        CaseState::Dispatched,
        CaseState::Handling,
        CaseState::Responded,
        CaseState::Verified,
        CaseState::Closed,
        CaseState::Evaluated,
        CaseState::Shelved,
        CaseState::Deferred,
        CaseState::Voided,
    ];

    /// Stable name, as stored and sent (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Reported => "reported",
            CaseState::Filed => "filed",
            CaseState::Dispatched => "dispatched",
            CaseState::Handling => "handling",
            CaseState::Responded => "responded",
            CaseState::Verified => "verified",
            CaseState::Closed => "closed",
            CaseState::Evaluated => "evaluated",
            CaseState::Shelved => "shelved",
            CaseState::Deferred => "deferred",
            CaseState::Voided => "voided",
        }
    }

    /// Parse the stable name.
    pub fn from_name(s: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Chinese label for the UI.
    pub fn label_zh(self) -> &'static str {
        match self {
            CaseState::Reported => "已上报",
            CaseState::Filed => "已立案",
            CaseState::Dispatched => "已派遣",
            CaseState::Handling => "处置中",
            CaseState::Responded => "已反馈",
            CaseState::Verified => "已核查",
            CaseState::Closed => "已结案",
            CaseState::Evaluated => "已评价",
            CaseState::Shelved => "挂账",
            CaseState::Deferred => "缓办",
            CaseState::Voided => "已作废",
        }
    }

    /// English label for the UI.
    pub fn label_en(self) -> &'static str {
        match self {
            CaseState::Reported => "Reported",
            CaseState::Filed => "Filed",
            CaseState::Dispatched => "Dispatched",
            CaseState::Handling => "Being handled",
            CaseState::Responded => "Awaiting verification",
            CaseState::Verified => "Verified",
            CaseState::Closed => "Closed",
            CaseState::Evaluated => "Evaluated",
            CaseState::Shelved => "Shelved",
            CaseState::Deferred => "Deferred",
            CaseState::Voided => "Voided",
        }
    }

    /// Whether the case still needs work: every state except 已结案, 已评价 and 已作废.
    /// Shelved and deferred cases are open (they count as due in the metrics).
    pub fn is_open(self) -> bool {
        !matches!(self, CaseState::Closed | CaseState::Evaluated | CaseState::Voided)
    }

    /// Whether no command leads out of this state. Only 已作废 is terminal: closed and evaluated
    /// cases can still be reopened (重新打开).
    pub fn is_terminal(self) -> bool {
        self == CaseState::Voided
    }

    /// Which time-limit clock runs while a case is in this state.
    pub fn clock(self) -> ClockPhase {
        match self {
            CaseState::Reported | CaseState::Filed => ClockPhase::Running(Step::Dispatch),
            CaseState::Dispatched | CaseState::Handling => ClockPhase::Running(Step::Handle),
            CaseState::Responded => ClockPhase::Running(Step::Verify),
            CaseState::Deferred => ClockPhase::Paused(Step::Handle),
            CaseState::Verified | CaseState::Closed | CaseState::Evaluated | CaseState::Shelved | CaseState::Voided => {
                ClockPhase::Idle
            }
        }
    }

    /// "已反馈 (responded)": the label and the stable name, as used in messages.
    fn both(self) -> String {
        format!("{} ({})", self.label_zh(), self.as_str())
    }
}

/// A timed step of the loop: each has its own time limit (时限) in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 立案派遣: from the report until dispatch (e.g. ≤ 10 min urgent, ≤ 30 min otherwise).
    Dispatch,
    /// 处置: from dispatch until the department reports back.
    Handle,
    /// 核查: from the department's report until on-site verification.
    Verify,
}

impl Step {
    /// Every step, in loop order.
    pub const ALL: [Step; 3] = [Step::Dispatch, Step::Handle, Step::Verify];

    /// Stable name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Dispatch => "dispatch",
            Step::Handle => "handle",
            Step::Verify => "verify",
        }
    }

    /// Chinese label for the UI.
    pub fn label_zh(self) -> &'static str {
        match self {
            Step::Dispatch => "立案派遣",
            Step::Handle => "处置",
            Step::Verify => "核查",
        }
    }
}

/// The state of the time-limit clock while a case sits in one [`CaseState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockPhase {
    /// No clock runs (verified, closed, evaluated, shelved, voided).
    Idle,
    /// The clock of this step runs.
    Running(Step),
    /// The clock of this step is paused, keeping its elapsed time (缓办).
    Paused(Step),
}

/// What the caller must do to the case's clocks after a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum ClockEffect {
    /// Start a fresh clock for the step with its full time limit.
    Start {
        /// The step timed.
        step: Step,
    },
    /// Stop the step's clock: the step is done or abandoned; record whether it was on time.
    Stop {
        /// The step timed.
        step: Step,
    },
    /// Pause the step's clock, keeping the time used so far.
    Pause {
        /// The step timed.
        step: Step,
    },
    /// Resume a paused clock with the time it had left.
    Resume {
        /// The step timed.
        step: Step,
    },
    /// Add working minutes to the step's time limit (approved 延期).
    Extend {
        /// The step timed.
        step: Step,
        /// Working minutes (工作分钟) added.
        minutes: u32,
    },
}

/// The clock effects that take a case from one clock phase to another.
fn clock_effects(from: ClockPhase, to: ClockPhase) -> Vec<ClockEffect> {
    use ClockPhase::{Idle, Paused, Running};
    match (from, to) {
        (a, b) if a == b => Vec::new(),
        (Running(a), Paused(b)) if a == b => vec![ClockEffect::Pause { step: a }],
        (Paused(a), Running(b)) if a == b => vec![ClockEffect::Resume { step: a }],
        _ => {
            let mut effects = Vec::new();
            if let Running(step) | Paused(step) = from {
                effects.push(ClockEffect::Stop { step });
            }
            match to {
                Running(step) => effects.push(ClockEffect::Start { step }),
                Paused(step) => effects.extend([ClockEffect::Start { step }, ClockEffect::Pause { step }]),
                Idle => {}
            }
            effects
        }
    }
}

/// The clock effects for a newly reported case: the 立案派遣 clock starts when the case is
/// reported (the report itself is created outside this state machine).
pub fn report_clock() -> Vec<ClockEffect> {
    clock_effects(ClockPhase::Idle, CaseState::Reported.clock())
}

/// The kind of a [`Command`], without its fields (操作类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    /// 立案.
    File,
    /// 作废.
    Void,
    /// 派遣.
    Dispatch,
    /// 签收.
    Accept,
    /// 回退.
    Return,
    /// 申请延期.
    RequestExtension,
    /// 审批延期.
    DecideExtension,
    /// 反馈.
    Respond,
    /// 核查.
    Verify,
    /// 结案.
    Close,
    /// 评价.
    Evaluate,
    /// 重新打开.
    Reopen,
    /// 挂账.
    Shelve,
    /// 解除挂账.
    Unshelve,
    /// 缓办.
    Defer,
    /// 恢复办理.
    Resume,
}

impl CommandKind {
    /// Every command, in the order of [`TRANSITIONS`].
    pub const ALL: [CommandKind; 16] = [
        CommandKind::File,
        CommandKind::Void,
        CommandKind::Dispatch,
        CommandKind::Accept,
        CommandKind::Return,
        CommandKind::RequestExtension,
        CommandKind::DecideExtension,
        CommandKind::Respond,
        CommandKind::Verify,
        CommandKind::Close,
        CommandKind::Evaluate,
        CommandKind::Reopen,
        CommandKind::Shelve,
        CommandKind::Unshelve,
        CommandKind::Defer,
        CommandKind::Resume,
    ];

    /// Stable name, as stored and sent (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::File => "file",
            CommandKind::Void => "void",
            CommandKind::Dispatch => "dispatch",
            CommandKind::Accept => "accept",
            CommandKind::Return => "return",
            CommandKind::RequestExtension => "request_extension",
            CommandKind::DecideExtension => "decide_extension",
            CommandKind::Respond => "respond",
            CommandKind::Verify => "verify",
            CommandKind::Close => "close",
            CommandKind::Evaluate => "evaluate",
            CommandKind::Reopen => "reopen",
            CommandKind::Shelve => "shelve",
            CommandKind::Unshelve => "unshelve",
            CommandKind::Defer => "defer",
            CommandKind::Resume => "resume",
        }
    }

    /// Parse the stable name.
    pub fn from_name(s: &str) -> Option<CommandKind> {
        CommandKind::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Chinese label for the UI.
    pub fn label_zh(self) -> &'static str {
        match self {
            CommandKind::File => "立案",
            CommandKind::Void => "作废",
            CommandKind::Dispatch => "派遣",
            CommandKind::Accept => "签收",
            CommandKind::Return => "回退",
            CommandKind::RequestExtension => "申请延期",
            CommandKind::DecideExtension => "审批延期",
            CommandKind::Respond => "反馈",
            CommandKind::Verify => "核查",
            CommandKind::Close => "结案",
            CommandKind::Evaluate => "评价",
            CommandKind::Reopen => "重新打开",
            CommandKind::Shelve => "挂账",
            CommandKind::Unshelve => "解除挂账",
            CommandKind::Defer => "缓办",
            CommandKind::Resume => "恢复办理",
        }
    }

    /// English label for the UI.
    pub fn label_en(self) -> &'static str {
        match self {
            CommandKind::File => "File",
            CommandKind::Void => "Void",
            CommandKind::Dispatch => "Dispatch",
            CommandKind::Accept => "Accept",
            CommandKind::Return => "Return",
            CommandKind::RequestExtension => "Request extension",
            CommandKind::DecideExtension => "Decide extension",
            CommandKind::Respond => "Report back",
            CommandKind::Verify => "Verify",
            CommandKind::Close => "Close",
            CommandKind::Evaluate => "Evaluate",
            CommandKind::Reopen => "Reopen",
            CommandKind::Shelve => "Shelve",
            CommandKind::Unshelve => "Unshelve",
            CommandKind::Defer => "Defer",
            CommandKind::Resume => "Resume",
        }
    }

    /// Whether the actor must belong to the department the case is assigned to
    /// ([`CaseStatus::department`]). The caller checks membership; this module cannot.
    pub fn requires_assigned_department(self) -> bool {
        matches!(self, CommandKind::Accept | CommandKind::Return | CommandKind::RequestExtension | CommandKind::Respond)
    }

    /// This command's row in [`TRANSITIONS`].
    pub fn transition(self) -> &'static Transition {
        // TRANSITIONS is in the order of CommandKind::ALL (checked by a test).
        &TRANSITIONS[self as usize]
    }

    /// "派遣 (dispatch)": the label and the stable name, as used in messages.
    fn both(self) -> String {
        format!("{} ({})", self.label_zh(), self.as_str())
    }
}

/// A command (操作) on a case, with its fields. Text fields are trimmed; a required text that is
/// blank is a [`TransitionError::MissingField`]. Fields default when absent from JSON so that
/// the error names the field, except the two verdicts (`approve`, `passed`), which must be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// 立案: accept the report as a case.
    File {
        /// Corrected class code (案件分类), when the reporter picked the wrong one; blank = keep.
        #[serde(default)]
        class_code: Option<String>,
        /// Optional note.
        #[serde(default)]
        note: String,
    },
    /// 作废: invalid or duplicate report.
    Void {
        /// Why; may be left blank for a duplicate, and then says which case it duplicates.
        #[serde(default)]
        reason: String,
        /// The case this one duplicates (重复案件); never the case itself.
        #[serde(default)]
        duplicate_of: Option<i64>,
    },
    /// 派遣: send to the one responsible department (责任单位).
    Dispatch {
        /// The department's code.
        #[serde(default)]
        department: String,
        /// Optional instructions.
        #[serde(default)]
        note: String,
    },
    /// 签收: the department takes the case on.
    Accept {
        /// Optional note.
        #[serde(default)]
        note: String,
    },
    /// 回退: the department says the case is not theirs and returns it to the centre.
    Return {
        /// Why (required).
        #[serde(default)]
        reason: String,
    },
    /// 申请延期: the department asks for more time.
    RequestExtension {
        /// Working minutes asked for (> 0).
        #[serde(default)]
        extra_minutes: u32,
        /// Why (required).
        #[serde(default)]
        reason: String,
    },
    /// 审批延期: approve or reject the pending request.
    DecideExtension {
        /// Approve (`true`) or reject (`false`).
        approve: bool,
        /// Note; required when rejecting.
        #[serde(default)]
        note: String,
    },
    /// 反馈: the department reports the result.
    Respond {
        /// The result (处置结果, required).
        #[serde(default)]
        note: String,
        /// Attachment ids of the result photos (at least one).
        #[serde(default)]
        photos: Vec<String>,
    },
    /// 核查: on-site check of the result; a failure sends the case back for rework (返工).
    Verify {
        /// Whether the result holds.
        passed: bool,
        /// What was found; required when the check fails.
        #[serde(default)]
        note: String,
        /// Attachment ids of on-site photos (optional).
        #[serde(default)]
        photos: Vec<String>,
    },
    /// 结案.
    Close {
        /// Optional note.
        #[serde(default)]
        note: String,
    },
    /// 评价: satisfaction with the result.
    Evaluate {
        /// 1 (very dissatisfied) to 5 (very satisfied).
        #[serde(default)]
        score: Option<u8>,
        /// Optional comment.
        #[serde(default)]
        note: String,
    },
    /// 重新打开: the problem was not really fixed.
    Reopen {
        /// Why (required).
        #[serde(default)]
        reason: String,
    },
    /// 挂账: cannot be solved now; put on the problem list.
    Shelve {
        /// Why (required).
        #[serde(default)]
        reason: String,
    },
    /// 解除挂账: take off the problem list, back to the centre for dispatch.
    Unshelve {
        /// Optional note.
        #[serde(default)]
        note: String,
    },
    /// 缓办: defer handling; the handling clock pauses.
    Defer {
        /// Why (required).
        #[serde(default)]
        reason: String,
    },
    /// 恢复办理: resume a deferred case.
    Resume {
        /// Optional note.
        #[serde(default)]
        note: String,
    },
}

impl Command {
    /// The kind of this command.
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::File { .. } => CommandKind::File,
            Command::Void { .. } => CommandKind::Void,
            Command::Dispatch { .. } => CommandKind::Dispatch,
            Command::Accept { .. } => CommandKind::Accept,
            Command::Return { .. } => CommandKind::Return,
            Command::RequestExtension { .. } => CommandKind::RequestExtension,
            Command::DecideExtension { .. } => CommandKind::DecideExtension,
            Command::Respond { .. } => CommandKind::Respond,
            Command::Verify { .. } => CommandKind::Verify,
            Command::Close { .. } => CommandKind::Close,
            Command::Evaluate { .. } => CommandKind::Evaluate,
            Command::Reopen { .. } => CommandKind::Reopen,
            Command::Shelve { .. } => CommandKind::Shelve,
            Command::Unshelve { .. } => CommandKind::Unshelve,
            Command::Defer { .. } => CommandKind::Defer,
            Command::Resume { .. } => CommandKind::Resume,
        }
    }
}

/// Where a command takes a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The state does not change (extension requests and decisions).
    Unchanged,
    /// Always to this state.
    To(CaseState),
    /// By the verdict of a check: [`Command::Verify`]'s `passed`.
    Verdict {
        /// The state when the check passes.
        passed: CaseState,
        /// The state when it fails.
        failed: CaseState,
    },
}

impl Target {
    /// Whether this target can put the case in one of `states`.
    pub fn reaches_any(self, states: &[CaseState]) -> bool {
        match self {
            Target::Unchanged => false,
            Target::To(s) => states.contains(&s),
            Target::Verdict { passed, failed } => states.contains(&passed) || states.contains(&failed),
        }
    }
}

/// One row of the transition table: a command, the states it applies in, where it leads and the
/// roles that may apply it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// The command.
    pub command: CommandKind,
    /// The states it may be applied in.
    pub from: &'static [CaseState],
    /// Where it leads.
    pub to: Target,
    /// The roles that may apply it.
    pub roles: &'static [Role],
}

const OPERATOR: &[Role] = &[Role::Operator, Role::Admin];
const DEPARTMENT: &[Role] = &[Role::DepartmentStaff];
const SUPERVISOR: &[Role] = &[Role::Operator, Role::Leader, Role::Admin];
const VERIFIER: &[Role] = &[Role::GridWorker, Role::Operator, Role::Admin];
const EVALUATOR: &[Role] = &[Role::Public, Role::Operator, Role::Admin];

/// The states in which the case is with a department and its handling clock runs.
const WITH_DEPARTMENT: &[CaseState] = &[CaseState::Dispatched, CaseState::Handling];

/// The transition table of the loop, one row per [`CommandKind`] in the order of
/// [`CommandKind::ALL`]. Admin may do everything an operator may; the public may only evaluate.
pub static TRANSITIONS: &[Transition] = {
    use CaseState::*;
    use CommandKind as K;
    &[
        Transition { command: K::File, from: &[Reported], to: Target::To(Filed), roles: OPERATOR },
        Transition { command: K::Void, from: &[Reported, Filed], to: Target::To(Voided), roles: OPERATOR },
        Transition { command: K::Dispatch, from: &[Filed], to: Target::To(Dispatched), roles: OPERATOR },
        Transition { command: K::Accept, from: &[Dispatched], to: Target::To(Handling), roles: DEPARTMENT },
        Transition { command: K::Return, from: WITH_DEPARTMENT, to: Target::To(Filed), roles: DEPARTMENT },
        Transition { command: K::RequestExtension, from: WITH_DEPARTMENT, to: Target::Unchanged, roles: DEPARTMENT },
        Transition { command: K::DecideExtension, from: WITH_DEPARTMENT, to: Target::Unchanged, roles: SUPERVISOR },
        Transition { command: K::Respond, from: &[Handling], to: Target::To(Responded), roles: DEPARTMENT },
        Transition {
            command: K::Verify,
            from: &[Responded],
            to: Target::Verdict { passed: Verified, failed: Handling },
            roles: VERIFIER,
        },
        Transition { command: K::Close, from: &[Verified], to: Target::To(Closed), roles: OPERATOR },
        Transition { command: K::Evaluate, from: &[Closed], to: Target::To(Evaluated), roles: EVALUATOR },
        Transition { command: K::Reopen, from: &[Closed, Evaluated], to: Target::To(Filed), roles: OPERATOR },
        Transition {
            command: K::Shelve,
            from: &[Filed, Dispatched, Handling],
            to: Target::To(Shelved),
            roles: SUPERVISOR,
        },
        Transition { command: K::Unshelve, from: &[Shelved], to: Target::To(Filed), roles: SUPERVISOR },
        Transition { command: K::Defer, from: WITH_DEPARTMENT, to: Target::To(Deferred), roles: SUPERVISOR },
        Transition { command: K::Resume, from: &[Deferred], to: Target::To(Handling), roles: SUPERVISOR },
    ]
};

/// A pending request for more handling time (延期申请).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    /// Working minutes asked for.
    pub extra_minutes: u32,
    /// Why.
    pub reason: String,
}

/// What the metrics count per case (考核计数).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    /// 派遣次数: dispatches, including re-dispatches after a return.
    pub dispatches: u32,
    /// 回退次数: returns by a department.
    pub returns: u32,
    /// 返工次数: failed verifications.
    pub reworks: u32,
    /// 延期次数: approved extensions.
    pub extensions: u32,
    /// 重新打开次数: reopenings.
    pub reopens: u32,
    /// 缓办次数: deferrals.
    pub deferrals: u32,
}

impl Counters {
    /// 准确派遣: dispatched at least once and never returned.
    pub fn dispatched_right_first_time(&self) -> bool {
        self.dispatches > 0 && self.returns == 0
    }

    /// Whether the case counts in 缓办数 (subtracted from 应结案数 in 结案率).
    pub fn was_deferred(&self) -> bool {
        self.deferrals > 0
    }
}

/// The part of a case the workflow reads and writes (案件流转状态).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStatus {
    /// The case's id.
    pub case_id: i64,
    /// Where the case is in the loop.
    pub state: CaseState,
    /// The extension request awaiting a decision; only while the case is dispatched or handled.
    pub pending_extension: Option<ExtensionRequest>,
    /// What the metrics count.
    pub counters: Counters,
    /// Code of the department the case was last dispatched to; cleared when it is returned.
    pub department: Option<String>,
    /// For a case voided as a duplicate: the case it duplicates.
    pub duplicate_of: Option<i64>,
}

impl CaseStatus {
    /// A newly reported case; start its clocks with [`report_clock`].
    pub fn reported(case_id: i64) -> CaseStatus {
        CaseStatus {
            case_id,
            state: CaseState::Reported,
            pending_extension: None,
            counters: Counters::default(),
            department: None,
            duplicate_of: None,
        }
    }

    /// The case's status as Open311 GeoReport v2 shows it.
    pub fn open311(&self) -> Open311Status {
        open311_status(self.state, self.duplicate_of.is_some())
    }
}

/// What to write in the case's timeline (流转记录) for one applied command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The state before.
    pub from: CaseState,
    /// The state after.
    pub to: CaseState,
    /// The command as applied: text trimmed, blank optional values dropped, defaults filled in.
    pub command: Command,
}

/// The result of applying a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The case's new status.
    pub status: CaseStatus,
    /// What to do to the clocks, in order.
    pub clock: Vec<ClockEffect>,
    /// What to write in the timeline.
    pub record: StepRecord,
}

/// Why a command cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The command does not apply in the case's current state.
    #[error("{}", wrong_state_message(*.command, *.current, .allowed_from, *.role, .allowed_now))]
    WrongState {
        /// The command tried.
        command: CommandKind,
        /// The case's state.
        current: CaseState,
        /// The states the command applies in.
        allowed_from: &'static [CaseState],
        /// The role that tried.
        role: Role,
        /// What this role may do now instead.
        allowed_now: Vec<CommandKind>,
    },
    /// The role may not apply this command at all.
    #[error(
        "role {} ({}) may not {}; allowed roles: {}",
        .role.label_zh(), .role.as_str(), .command.both(),
        join(.allowed_roles.iter().map(|r| format!("{} ({})", r.label_zh(), r.as_str())))
    )]
    WrongRole {
        /// The command tried.
        command: CommandKind,
        /// The role that tried.
        role: Role,
        /// The roles that may.
        allowed_roles: &'static [Role],
    },
    /// A required field is absent or blank.
    #[error("{} requires `{field}`: {}", .command.both(), requirement(*.command, .field))]
    MissingField {
        /// The command tried.
        command: CommandKind,
        /// The field (its JSON name).
        field: &'static str,
    },
    /// A field has a value outside its rules.
    #[error("cannot {}: `{field}` {message}", .command.both())]
    InvalidField {
        /// The command tried.
        command: CommandKind,
        /// The field (its JSON name).
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// An extension was requested while another awaits a decision.
    #[error(
        "an extension of {pending_minutes} working minutes is already pending; \
         it must be decided (审批延期) before another is requested"
    )]
    ExtensionPending {
        /// The minutes of the pending request.
        pending_minutes: u32,
    },
    /// An extension decision with no request pending.
    #[error("no extension request (延期申请) is pending, so there is nothing to decide")]
    NoExtensionPending,
}

impl TransitionError {
    /// Stable code for the API (e.g. `case.wrong_state`).
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::WrongState { .. } => "case.wrong_state",
            TransitionError::WrongRole { .. } => "case.wrong_role",
            TransitionError::MissingField { .. } => "case.missing_field",
            TransitionError::InvalidField { .. } => "case.invalid_field",
            TransitionError::ExtensionPending { .. } => "case.extension_pending",
            TransitionError::NoExtensionPending => "case.no_extension_pending",
        }
    }

    /// The generic registry code (and with it the HTTP status) this error is answered with.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            TransitionError::WrongState { .. }
            | TransitionError::ExtensionPending { .. }
            | TransitionError::NoExtensionPending => ErrorCode::Conflict,
            TransitionError::WrongRole { .. } => ErrorCode::Forbidden,
            TransitionError::MissingField { .. } | TransitionError::InvalidField { .. } => ErrorCode::InvalidField,
        }
    }

    /// The field at fault, if any (the API's `field`).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            TransitionError::MissingField { field, .. } | TransitionError::InvalidField { field, .. } => Some(field),
            _ => None,
        }
    }
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn wrong_state_message(
    command: CommandKind,
    current: CaseState,
    allowed_from: &[CaseState],
    role: Role,
    allowed_now: &[CommandKind],
) -> String {
    let mut msg = format!(
        "cannot {} a case in state {}; {} is allowed from: {}",
        command.both(),
        current.both(),
        command.as_str(),
        join(allowed_from.iter().map(|s| s.both()))
    );
    if allowed_now.is_empty() {
        let _ = write!(msg, "; nothing is allowed now for {}", role.as_str());
    } else {
        let _ = write!(msg, "; allowed now for {}: {}", role.as_str(), join(allowed_now.iter().map(|k| k.both())));
        // A command allowed now that leads to a state this command applies in: "签收 first".
        let first: Vec<_> = allowed_now.iter().filter(|k| k.transition().to.reaches_any(allowed_from)).collect();
        if !first.is_empty() {
            let _ = write!(msg, "; {} first, then {}", join(first.iter().map(|k| k.both())), command.both());
        }
    }
    msg
}

/// What a required field must hold, for [`TransitionError::MissingField`] messages.
fn requirement(command: CommandKind, field: &str) -> &'static str {
    match (command, field) {
        (CommandKind::Dispatch, _) => "the code of the one responsible department (责任单位)",
        (CommandKind::Respond, "photos") => "at least one photo of the result (处置后照片)",
        (CommandKind::Respond, _) => "the result of the handling (处置结果)",
        (CommandKind::Verify, _) => "a failed check sends the case back for rework (返工) and must say what is wrong",
        (CommandKind::DecideExtension, _) => "a rejected extension must say why",
        (CommandKind::Evaluate, _) => "a satisfaction score from 1 to 5",
        (CommandKind::Void, _) => "why the report is invalid, unless it is a duplicate (give duplicate_of)",
        _ => "a reason must be given",
    }
}

/// The commands `role` may apply to a case in `status` now, in [`CommandKind::ALL`] order — the
/// buttons to show. Agrees with [`apply`] for any command whose fields are valid.
pub fn allowed(status: &CaseStatus, role: Role) -> Vec<CommandKind> {
    TRANSITIONS
        .iter()
        .filter(|t| t.roles.contains(&role) && t.from.contains(&status.state))
        .map(|t| t.command)
        .filter(|&k| extension_precondition(status, k).is_ok())
        .collect()
}

fn extension_precondition(status: &CaseStatus, command: CommandKind) -> Result<(), TransitionError> {
    match (command, &status.pending_extension) {
        (CommandKind::RequestExtension, Some(p)) => {
            Err(TransitionError::ExtensionPending { pending_minutes: p.extra_minutes })
        }
        (CommandKind::DecideExtension, None) => Err(TransitionError::NoExtensionPending),
        _ => Ok(()),
    }
}

/// Apply `command` by `role` to a case in `status`.
///
/// Checks, in order: the role ([`TransitionError::WrongRole`]), the state
/// ([`TransitionError::WrongState`]), the pending extension, then the fields. Department
/// membership for [`CommandKind::requires_assigned_department`] is the caller's to check.
pub fn apply(status: &CaseStatus, role: Role, command: &Command) -> Result<Outcome, TransitionError> {
    let kind = command.kind();
    let rule = kind.transition();
    if !rule.roles.contains(&role) {
        return Err(TransitionError::WrongRole { command: kind, role, allowed_roles: rule.roles });
    }
    if !rule.from.contains(&status.state) {
        return Err(TransitionError::WrongState {
            command: kind,
            current: status.state,
            allowed_from: rule.from,
            role,
            allowed_now: allowed(status, role),
        });
    }
    extension_precondition(status, kind)?;
    let command = normalise(status, command)?;

    let mut next = status.clone();
    next.state = match rule.to {
        Target::Unchanged => status.state,
        Target::To(state) => state,
        Target::Verdict { passed, failed } => match command {
            Command::Verify { passed: true, .. } => passed,
            _ => failed,
        },
    };
    let counters = &mut next.counters;
    let mut extend = None;
    match &command {
        Command::Void { duplicate_of, .. } => next.duplicate_of = *duplicate_of,
        Command::Dispatch { department, .. } => {
            counters.dispatches = counters.dispatches.saturating_add(1);
            next.department = Some(department.clone());
        }
        Command::Return { .. } => {
            counters.returns = counters.returns.saturating_add(1);
            next.department = None;
        }
        Command::RequestExtension { extra_minutes, reason } => {
            next.pending_extension = Some(ExtensionRequest { extra_minutes: *extra_minutes, reason: reason.clone() });
        }
        Command::DecideExtension { approve, .. } => {
            // Either way the request is decided; approval adds its minutes to the handling limit.
            let request = next.pending_extension.take();
            if let (true, Some(request)) = (*approve, request) {
                counters.extensions = counters.extensions.saturating_add(1);
                extend = Some(ClockEffect::Extend { step: Step::Handle, minutes: request.extra_minutes });
            }
        }
        Command::Verify { passed: false, .. } => counters.reworks = counters.reworks.saturating_add(1),
        Command::Reopen { .. } => counters.reopens = counters.reopens.saturating_add(1),
        Command::Defer { .. } => counters.deferrals = counters.deferrals.saturating_add(1),
        _ => {}
    }
    // A request lapses when the case leaves the department (returned, reported back, shelved…).
    if !WITH_DEPARTMENT.contains(&next.state) {
        next.pending_extension = None;
    }

    let mut clock = clock_effects(status.state.clock(), next.state.clock());
    clock.extend(extend);
    let record = StepRecord { from: status.state, to: next.state, command };
    Ok(Outcome { status: next, clock, record })
}

/// Check the command's fields and return it normalised: text trimmed, blank optional values
/// dropped, a duplicate's default reason filled in.
fn normalise(status: &CaseStatus, command: &Command) -> Result<Command, TransitionError> {
    let kind = command.kind();
    let required = |field: &'static str, value: &str| -> Result<String, TransitionError> {
        let value = value.trim();
        if value.is_empty() {
            Err(TransitionError::MissingField { command: kind, field })
        } else {
            Ok(value.to_owned())
        }
    };
    let invalid =
        |field: &'static str, message: String| TransitionError::InvalidField { command: kind, field, message };
    let photos = |photos: &[String]| -> Result<Vec<String>, TransitionError> {
        photos
            .iter()
            .enumerate()
            .map(|(i, p)| match p.trim() {
                "" => Err(invalid("photos", format!("has a blank attachment id at position {}", i + 1))),
                p => Ok(p.to_owned()),
            })
            .collect()
    };
    let optional = |value: &str| value.trim().to_owned();

    Ok(match command {
        Command::File { class_code, note } => Command::File {
            class_code: class_code.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned),
            note: optional(note),
        },
        Command::Void { reason, duplicate_of } => {
            if let Some(d) = *duplicate_of {
                if d <= 0 {
                    return Err(invalid("duplicate_of", format!("must be a case id (positive), got {d}")));
                }
                if d == status.case_id {
                    return Err(invalid("duplicate_of", format!("must be another case, not this case ({d})")));
                }
            }
            let reason = match (reason.trim(), *duplicate_of) {
                ("", Some(d)) => format!("重复案件，与案件 {d} 相同 (duplicate of case {d})"),
                _ => required("reason", reason)?,
            };
            Command::Void { reason, duplicate_of: *duplicate_of }
        }
        Command::Dispatch { department, note } => {
            Command::Dispatch { department: required("department", department)?, note: optional(note) }
        }
        Command::Accept { note } => Command::Accept { note: optional(note) },
        Command::Return { reason } => Command::Return { reason: required("reason", reason)? },
        Command::RequestExtension { extra_minutes, reason } => {
            if *extra_minutes == 0 {
                return Err(invalid("extra_minutes", "must be at least 1 working minute, got 0".to_owned()));
            }
            Command::RequestExtension { extra_minutes: *extra_minutes, reason: required("reason", reason)? }
        }
        Command::DecideExtension { approve, note } => Command::DecideExtension {
            approve: *approve,
            note: if *approve { optional(note) } else { required("note", note)? },
        },
        Command::Respond { note, photos: list } => {
            let note = required("note", note)?;
            if list.is_empty() {
                return Err(TransitionError::MissingField { command: kind, field: "photos" });
            }
            Command::Respond { note, photos: photos(list)? }
        }
        Command::Verify { passed, note, photos: list } => Command::Verify {
            passed: *passed,
            note: if *passed { optional(note) } else { required("note", note)? },
            photos: photos(list)?,
        },
        Command::Close { note } => Command::Close { note: optional(note) },
        Command::Evaluate { score, note } => match *score {
            None => return Err(TransitionError::MissingField { command: kind, field: "score" }),
            Some(s @ 1..=5) => Command::Evaluate { score: Some(s), note: optional(note) },
            Some(s) => return Err(invalid("score", format!("must be from 1 to 5, got {s}"))),
        },
        Command::Reopen { reason } => Command::Reopen { reason: required("reason", reason)? },
        Command::Shelve { reason } => Command::Shelve { reason: required("reason", reason)? },
        Command::Unshelve { note } => Command::Unshelve { note: optional(note) },
        Command::Defer { reason } => Command::Defer { reason: required("reason", reason)? },
        Command::Resume { note } => Command::Resume { note: optional(note) },
    })
}

/// A case's status in Open311 GeoReport v2: the standard `status` and a finer extension value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Open311Status {
    /// `open` or `closed`: the only two values the standard allows.
    pub status: &'static str,
    /// The finer status, sent in the extension field.
    pub extended: &'static str,
}

/// The Open311 status of a case in `state`; `duplicate` says whether a voided case was voided as
/// a duplicate. Everything not yet finished is `open`, including shelved and deferred cases:
///
/// | state      | status | extended                                   |
/// |------------|--------|--------------------------------------------|
/// | reported   | open   | `submitted`                                |
/// | filed      | open   | `acknowledged`                             |
/// | dispatched | open   | `action_scheduled`                         |
/// | handling   | open   | `in_progress`                              |
/// | responded  | open   | `awaiting_verification`                    |
/// | verified   | open   | `verified`                                 |
/// | shelved    | open   | `shelved`                                  |
/// | deferred   | open   | `deferred`                                 |
/// | closed     | closed | `fixed`                                    |
/// | evaluated  | closed | `fixed`                                    |
/// | voided     | closed | `duplicate` if a duplicate, else `invalid` |
pub fn open311_status(state: CaseState, duplicate: bool) -> Open311Status {
    let (status, extended) = match state {
        CaseState::Reported => ("open", "submitted"),
        CaseState::Filed => ("open", "acknowledged"),
        CaseState::Dispatched => ("open", "action_scheduled"),
        CaseState::Handling => ("open", "in_progress"),
        CaseState::Responded => ("open", "awaiting_verification"),
        CaseState::Verified => ("open", "verified"),
        CaseState::Shelved => ("open", "shelved"),
        CaseState::Deferred => ("open", "deferred"),
        CaseState::Closed | CaseState::Evaluated => ("closed", "fixed"),
        CaseState::Voided if duplicate => ("closed", "duplicate"),
        CaseState::Voided => ("closed", "invalid"),
    };
    Open311Status { status, extended }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashSet, VecDeque};

    const CASE: i64 = 42;

    fn s(text: &str) -> String {
        text.to_owned()
    }

    /// A valid command of each kind.
    fn sample(kind: CommandKind) -> Command {
        match kind {
            CommandKind::File => Command::File { class_code: None, note: String::new() },
            CommandKind::Void => Command::Void { reason: s("无效上报"), duplicate_of: None },
            CommandKind::Dispatch => Command::Dispatch { department: s("cgj"), note: String::new() },
            CommandKind::Accept => Command::Accept { note: String::new() },
            CommandKind::Return => Command::Return { reason: s("非本部门职责") },
            CommandKind::RequestExtension => {
                Command::RequestExtension { extra_minutes: 240, reason: s("需采购配件") }
            }
            CommandKind::DecideExtension => Command::DecideExtension { approve: true, note: String::new() },
            CommandKind::Respond => Command::Respond { note: s("已修复"), photos: vec![s("att-1")] },
            CommandKind::Verify => Command::Verify { passed: true, note: String::new(), photos: vec![] },
            CommandKind::Close => Command::Close { note: String::new() },
            CommandKind::Evaluate => Command::Evaluate { score: Some(5), note: String::new() },
            CommandKind::Reopen => Command::Reopen { reason: s("未真正修复") },
            CommandKind::Shelve => Command::Shelve { reason: s("需立项解决") },
            CommandKind::Unshelve => Command::Unshelve { note: String::new() },
            CommandKind::Defer => Command::Defer { reason: s("雨季暂缓") },
            CommandKind::Resume => Command::Resume { note: String::new() },
        }
    }

    fn in_state(state: CaseState) -> CaseStatus {
        CaseStatus { state, ..CaseStatus::reported(CASE) }
    }

    fn pending() -> Option<ExtensionRequest> {
        Some(ExtensionRequest { extra_minutes: 240, reason: s("需采购配件") })
    }

    /// Apply and expect success.
    fn ok(status: &CaseStatus, role: Role, command: Command) -> Outcome {
        apply(status, role, &command).unwrap_or_else(|e| panic!("{:?} by {role:?}: {e}", command.kind()))
    }

    fn start(step: Step) -> ClockEffect {
        ClockEffect::Start { step }
    }

    fn stop(step: Step) -> ClockEffect {
        ClockEffect::Stop { step }
    }

    fn dispatched() -> CaseStatus {
        let filed = ok(&CaseStatus::reported(CASE), Role::Operator, sample(CommandKind::File)).status;
        ok(&filed, Role::Operator, sample(CommandKind::Dispatch)).status
    }

    fn handling() -> CaseStatus {
        ok(&dispatched(), Role::DepartmentStaff, sample(CommandKind::Accept)).status
    }

    fn responded() -> CaseStatus {
        ok(&handling(), Role::DepartmentStaff, sample(CommandKind::Respond)).status
    }

    fn closed() -> CaseStatus {
        let verified = ok(&responded(), Role::GridWorker, sample(CommandKind::Verify)).status;
        ok(&verified, Role::Operator, sample(CommandKind::Close)).status
    }

    #[test]
    fn the_normal_loop_runs_from_report_to_evaluation() {
        assert_eq!(report_clock(), vec![start(Step::Dispatch)]);
        let reported = CaseStatus::reported(CASE);

        let filed = ok(&reported, Role::Operator, Command::File { class_code: Some(s(" 0101 ")), note: s(" ok ") });
        assert_eq!(filed.status.state, CaseState::Filed);
        assert_eq!(filed.clock, vec![]);
        assert_eq!(filed.record.command, Command::File { class_code: Some(s("0101")), note: s("ok") });

        let dispatched = ok(&filed.status, Role::Operator, sample(CommandKind::Dispatch));
        assert_eq!(dispatched.status.state, CaseState::Dispatched);
        assert_eq!(dispatched.status.department.as_deref(), Some("cgj"));
        assert_eq!(dispatched.status.counters.dispatches, 1);
        assert_eq!(dispatched.clock, vec![stop(Step::Dispatch), start(Step::Handle)]);

        let accepted = ok(&dispatched.status, Role::DepartmentStaff, sample(CommandKind::Accept));
        assert_eq!(accepted.status.state, CaseState::Handling);
        assert_eq!(accepted.clock, vec![]);

        let responded = ok(&accepted.status, Role::DepartmentStaff, sample(CommandKind::Respond));
        assert_eq!(responded.status.state, CaseState::Responded);
        assert_eq!(responded.clock, vec![stop(Step::Handle), start(Step::Verify)]);

        let verified = ok(&responded.status, Role::GridWorker, sample(CommandKind::Verify));
        assert_eq!(verified.status.state, CaseState::Verified);
        assert_eq!(verified.clock, vec![stop(Step::Verify)]);

        let closed = ok(&verified.status, Role::Operator, sample(CommandKind::Close));
        assert_eq!(closed.status.state, CaseState::Closed);
        assert!(!closed.status.state.is_open());

        let evaluated = ok(&closed.status, Role::Public, Command::Evaluate { score: Some(4), note: s(" 满意 ") });
        assert_eq!(evaluated.status.state, CaseState::Evaluated);
        assert_eq!(evaluated.record.from, CaseState::Closed);
        assert_eq!(evaluated.record.to, CaseState::Evaluated);
        assert_eq!(evaluated.record.command, Command::Evaluate { score: Some(4), note: s("满意") });

        let counters = evaluated.status.counters;
        assert_eq!(counters, Counters { dispatches: 1, ..Counters::default() });
        assert!(counters.dispatched_right_first_time());
        assert!(!counters.was_deferred());
    }

    #[test]
    fn a_returned_case_is_redispatched_and_not_counted_as_accurate() {
        let returned = ok(&handling(), Role::DepartmentStaff, Command::Return { reason: s(" 属住建局 ") });
        assert_eq!(returned.status.state, CaseState::Filed);
        assert_eq!(returned.status.department, None);
        assert_eq!(returned.status.counters.returns, 1);
        assert_eq!(returned.clock, vec![stop(Step::Handle), start(Step::Dispatch)]);
        assert_eq!(returned.record.command, Command::Return { reason: s("属住建局") });

        let again = ok(&returned.status, Role::Admin, Command::Dispatch { department: s("zjj"), note: String::new() });
        assert_eq!(again.status.state, CaseState::Dispatched);
        assert_eq!(again.status.department.as_deref(), Some("zjj"));
        assert_eq!(again.status.counters.dispatches, 2);
        assert!(!again.status.counters.dispatched_right_first_time());

        // A dispatched (not yet accepted) case can be returned too.
        let returned = ok(&again.status, Role::DepartmentStaff, sample(CommandKind::Return));
        assert_eq!(returned.status.counters.returns, 2);
    }

    #[test]
    fn failed_verification_sends_the_case_back_for_rework_and_counts() {
        let mut status = responded();
        for round in 1..=2 {
            let failed = ok(
                &status,
                Role::GridWorker,
                Command::Verify { passed: false, note: s("仍有垃圾"), photos: vec![s(" att-9 ")] },
            );
            assert_eq!(failed.status.state, CaseState::Handling);
            assert_eq!(failed.status.counters.reworks, round);
            assert_eq!(failed.clock, vec![stop(Step::Verify), start(Step::Handle)]);
            assert_eq!(
                failed.record.command,
                Command::Verify { passed: false, note: s("仍有垃圾"), photos: vec![s("att-9")] }
            );
            status = ok(&failed.status, Role::DepartmentStaff, sample(CommandKind::Respond)).status;
        }
        let passed = ok(&status, Role::Operator, sample(CommandKind::Verify));
        assert_eq!(passed.status.state, CaseState::Verified);
        assert_eq!(passed.status.counters.reworks, 2);
    }

    #[test]
    fn extensions_are_requested_then_approved_or_rejected() {
        let status = handling();
        let err = apply(&status, Role::Operator, &sample(CommandKind::DecideExtension)).unwrap_err();
        assert_eq!(err, TransitionError::NoExtensionPending);

        let requested = ok(
            &status,
            Role::DepartmentStaff,
            Command::RequestExtension { extra_minutes: 480, reason: s(" 需采购配件 ") },
        );
        assert_eq!(requested.status.state, CaseState::Handling);
        assert_eq!(
            requested.status.pending_extension,
            Some(ExtensionRequest { extra_minutes: 480, reason: s("需采购配件") })
        );
        assert_eq!(requested.clock, vec![]);
        let err = apply(&requested.status, Role::DepartmentStaff, &sample(CommandKind::RequestExtension)).unwrap_err();
        assert_eq!(err, TransitionError::ExtensionPending { pending_minutes: 480 });
        assert_eq!(err.code(), "case.extension_pending");
        assert!(err.to_string().contains("480"), "{err}");

        let approved = ok(&requested.status, Role::Leader, sample(CommandKind::DecideExtension));
        assert_eq!(approved.status.pending_extension, None);
        assert_eq!(approved.status.counters.extensions, 1);
        assert_eq!(approved.status.state, CaseState::Handling);
        assert_eq!(approved.clock, vec![ClockEffect::Extend { step: Step::Handle, minutes: 480 }]);

        let requested = ok(&approved.status, Role::DepartmentStaff, sample(CommandKind::RequestExtension));
        let err = apply(&requested.status, Role::Operator, &Command::DecideExtension { approve: false, note: s("  ") })
            .unwrap_err();
        assert_eq!(err, TransitionError::MissingField { command: CommandKind::DecideExtension, field: "note" });
        let rejected =
            ok(&requested.status, Role::Operator, Command::DecideExtension { approve: false, note: s("理由不足") });
        assert_eq!(rejected.status.pending_extension, None);
        assert_eq!(rejected.status.counters.extensions, 1);
        assert_eq!(rejected.clock, vec![]);
    }

    #[test]
    fn a_pending_extension_survives_accept_and_lapses_when_the_case_leaves_the_department() {
        let requested = ok(&dispatched(), Role::DepartmentStaff, sample(CommandKind::RequestExtension)).status;
        let accepted = ok(&requested, Role::DepartmentStaff, sample(CommandKind::Accept)).status;
        assert_eq!(accepted.pending_extension, pending());
        for (role, kind) in [
            (Role::DepartmentStaff, CommandKind::Return),
            (Role::DepartmentStaff, CommandKind::Respond),
            (Role::Leader, CommandKind::Shelve),
            (Role::Leader, CommandKind::Defer),
        ] {
            let out = ok(&accepted, role, sample(kind));
            assert_eq!(out.status.pending_extension, None, "{kind:?}");
        }
    }

    #[test]
    fn shelve_and_unshelve() {
        let shelved = ok(&handling(), Role::Leader, Command::Shelve { reason: s("需纳入年度计划") });
        assert_eq!(shelved.status.state, CaseState::Shelved);
        assert!(shelved.status.state.is_open());
        assert_eq!(shelved.clock, vec![stop(Step::Handle)]);
        let unshelved = ok(&shelved.status, Role::Operator, sample(CommandKind::Unshelve));
        assert_eq!(unshelved.status.state, CaseState::Filed);
        assert_eq!(unshelved.clock, vec![start(Step::Dispatch)]);

        let filed = in_state(CaseState::Filed);
        let shelved = ok(&filed, Role::Admin, sample(CommandKind::Shelve));
        assert_eq!(shelved.clock, vec![stop(Step::Dispatch)]);
    }

    #[test]
    fn defer_pauses_and_resume_resumes_the_handling_clock() {
        let deferred = ok(&dispatched(), Role::Leader, Command::Defer { reason: s("雨季暂缓") });
        assert_eq!(deferred.status.state, CaseState::Deferred);
        assert_eq!(deferred.clock, vec![ClockEffect::Pause { step: Step::Handle }]);
        assert!(deferred.status.counters.was_deferred());
        assert_eq!(deferred.status.counters.deferrals, 1);
        let resumed = ok(&deferred.status, Role::Operator, sample(CommandKind::Resume));
        assert_eq!(resumed.status.state, CaseState::Handling);
        assert_eq!(resumed.clock, vec![ClockEffect::Resume { step: Step::Handle }]);
        assert_eq!(resumed.status.department.as_deref(), Some("cgj"));
    }

    #[test]
    fn void_as_duplicate() {
        let reported = CaseStatus::reported(CASE);
        let voided = ok(&reported, Role::Operator, Command::Void { reason: String::new(), duplicate_of: Some(7) });
        assert_eq!(voided.status.state, CaseState::Voided);
        assert_eq!(voided.status.duplicate_of, Some(7));
        assert_eq!(voided.clock, vec![stop(Step::Dispatch)]);
        let Command::Void { reason, .. } = &voided.record.command else { panic!("{:?}", voided.record) };
        assert!(reason.contains('7'), "{reason}");
        assert_eq!(voided.status.open311(), Open311Status { status: "closed", extended: "duplicate" });
        assert!(voided.status.state.is_terminal());
        assert_eq!(allowed(&voided.status, Role::Admin), vec![]);

        let err = apply(&reported, Role::Operator, &Command::Void { reason: s("重复"), duplicate_of: Some(CASE) })
            .unwrap_err();
        assert!(matches!(err, TransitionError::InvalidField { field: "duplicate_of", .. }), "{err:?}");
        assert!(err.to_string().contains("not this case"), "{err}");
        let err =
            apply(&reported, Role::Operator, &Command::Void { reason: s("重复"), duplicate_of: Some(0) }).unwrap_err();
        assert!(matches!(err, TransitionError::InvalidField { field: "duplicate_of", .. }), "{err:?}");

        let err = apply(&reported, Role::Operator, &Command::Void { reason: s(" "), duplicate_of: None }).unwrap_err();
        assert_eq!(err, TransitionError::MissingField { command: CommandKind::Void, field: "reason" });
        let voided = ok(&in_state(CaseState::Filed), Role::Admin, sample(CommandKind::Void));
        assert_eq!(voided.status.open311(), Open311Status { status: "closed", extended: "invalid" });
    }

    #[test]
    fn closed_and_evaluated_cases_reopen() {
        let closed = closed();
        let evaluated = ok(&closed, Role::Operator, sample(CommandKind::Evaluate)).status;
        for status in [closed, evaluated] {
            let reopened = ok(&status, Role::Operator, Command::Reopen { reason: s("未真正修复") });
            assert_eq!(reopened.status.state, CaseState::Filed);
            assert_eq!(reopened.status.counters.reopens, 1);
            assert_eq!(reopened.clock, vec![start(Step::Dispatch)]);
            assert!(reopened.status.state.is_open());
            let again = ok(&reopened.status, Role::Operator, sample(CommandKind::Dispatch));
            assert_eq!(again.status.counters.dispatches, 2);
        }
    }

    #[test]
    fn every_role_and_state_outside_the_table_is_refused() {
        for t in TRANSITIONS {
            for role in Role::ALL {
                for state in CaseState::ALL {
                    let mut status = in_state(state);
                    if t.command == CommandKind::DecideExtension {
                        status.pending_extension = pending();
                    }
                    let result = apply(&status, role, &sample(t.command));
                    let at = format!("{:?} by {role:?} in {state:?}", t.command);
                    match (t.roles.contains(&role), t.from.contains(&state)) {
                        (false, _) => {
                            assert_eq!(
                                result,
                                Err(TransitionError::WrongRole { command: t.command, role, allowed_roles: t.roles }),
                                "{at}"
                            );
                        }
                        (true, false) => match result {
                            Err(TransitionError::WrongState { command, current, allowed_from, .. }) => {
                                assert_eq!((command, current, allowed_from), (t.command, state, t.from), "{at}");
                            }
                            other => panic!("{at}: {other:?}"),
                        },
                        (true, true) => {
                            let out = result.unwrap_or_else(|e| panic!("{at}: {e}"));
                            let expected = match t.to {
                                Target::Unchanged => state,
                                Target::To(to) => to,
                                Target::Verdict { passed, .. } => passed,
                            };
                            assert_eq!(out.status.state, expected, "{at}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn required_fields_are_named_when_missing() {
        let cases: Vec<(CaseState, Role, Command, &str)> = vec![
            (CaseState::Filed, Role::Operator, Command::Dispatch { department: s(" "), note: s("x") }, "department"),
            (CaseState::Handling, Role::DepartmentStaff, Command::Return { reason: String::new() }, "reason"),
            (
                CaseState::Handling,
                Role::DepartmentStaff,
                Command::RequestExtension { extra_minutes: 60, reason: String::new() },
                "reason",
            ),
            (
                CaseState::Handling,
                Role::DepartmentStaff,
                Command::Respond { note: s("已修复"), photos: vec![] },
                "photos",
            ),
            (
                CaseState::Handling,
                Role::DepartmentStaff,
                Command::Respond { note: s(""), photos: vec![s("a")] },
                "note",
            ),
            (
                CaseState::Responded,
                Role::GridWorker,
                Command::Verify { passed: false, note: s("\t"), photos: vec![] },
                "note",
            ),
            (CaseState::Closed, Role::Public, Command::Evaluate { score: None, note: s("好") }, "score"),
            (CaseState::Closed, Role::Operator, Command::Reopen { reason: String::new() }, "reason"),
            (CaseState::Filed, Role::Leader, Command::Shelve { reason: String::new() }, "reason"),
            (CaseState::Handling, Role::Leader, Command::Defer { reason: String::new() }, "reason"),
            (
                CaseState::Reported,
                Role::Operator,
                Command::Void { reason: String::new(), duplicate_of: None },
                "reason",
            ),
        ];
        for (state, role, command, field) in cases {
            let err = apply(&in_state(state), role, &command).unwrap_err();
            assert_eq!(err, TransitionError::MissingField { command: command.kind(), field }, "{command:?}");
            assert_eq!(err.code(), "case.missing_field");
            assert_eq!(err.field(), Some(field));
            let msg = err.to_string();
            assert!(msg.contains(field) && msg.contains(command.kind().label_zh()), "{msg}");
        }
    }

    #[test]
    fn invalid_fields_are_named_with_the_rule() {
        let cases: Vec<(CaseState, Role, Command, &str, &str)> = vec![
            (CaseState::Closed, Role::Public, Command::Evaluate { score: Some(0), note: s("") }, "score", "got 0"),
            (CaseState::Closed, Role::Public, Command::Evaluate { score: Some(6), note: s("") }, "score", "got 6"),
            (
                CaseState::Handling,
                Role::DepartmentStaff,
                Command::RequestExtension { extra_minutes: 0, reason: s("x") },
                "extra_minutes",
                "at least 1",
            ),
            (
                CaseState::Handling,
                Role::DepartmentStaff,
                Command::Respond { note: s("已修复"), photos: vec![s("a"), s(" ")] },
                "photos",
                "position 2",
            ),
        ];
        for (state, role, command, field, text) in cases {
            let err = apply(&in_state(state), role, &command).unwrap_err();
            assert!(matches!(err, TransitionError::InvalidField { field: f, .. } if f == field), "{err:?}");
            assert_eq!(err.code(), "case.invalid_field");
            assert_eq!(err.error_code(), ErrorCode::InvalidField);
            assert!(err.to_string().contains(text), "{err}");
        }
    }

    #[test]
    fn wrong_state_messages_name_the_state_the_allowed_states_and_what_to_do_now() {
        let err = apply(&responded(), Role::Operator, &sample(CommandKind::Dispatch)).unwrap_err();
        assert_eq!(err.code(), "case.wrong_state");
        assert_eq!(err.error_code(), ErrorCode::Conflict);
        assert_eq!(
            err.to_string(),
            "cannot 派遣 (dispatch) a case in state 已反馈 (responded); dispatch is allowed from: 已立案 (filed); \
             allowed now for operator: 核查 (verify)"
        );

        // Responding needs an accept first; the message says so.
        let err = apply(&dispatched(), Role::DepartmentStaff, &sample(CommandKind::Respond)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("已派遣 (dispatched)") && msg.contains("处置中 (handling)"), "{msg}");
        assert!(msg.ends_with("; 签收 (accept) first, then 反馈 (respond)"), "{msg}");

        let err = apply(&in_state(CaseState::Filed), Role::DepartmentStaff, &sample(CommandKind::Accept)).unwrap_err();
        assert!(err.to_string().ends_with("nothing is allowed now for department_staff"), "{err}");

        let err = apply(&in_state(CaseState::Reported), Role::GridWorker, &sample(CommandKind::Dispatch)).unwrap_err();
        assert_eq!(err.code(), "case.wrong_role");
        assert_eq!(err.error_code(), ErrorCode::Forbidden);
        assert_eq!(
            err.to_string(),
            "role 网格员 (grid_worker) may not 派遣 (dispatch); allowed roles: 受理/派遣员 (operator), 系统管理员 (admin)"
        );
    }

    #[test]
    fn allowed_agrees_with_apply_everywhere() {
        for state in CaseState::ALL {
            for pending in [None, pending()] {
                let status = CaseStatus { pending_extension: pending, ..in_state(state) };
                for role in Role::ALL {
                    let now = allowed(&status, role);
                    for kind in CommandKind::ALL {
                        let result = apply(&status, role, &sample(kind));
                        assert_eq!(
                            now.contains(&kind),
                            result.is_ok(),
                            "{kind:?} by {role:?} in {status:?}: {result:?}"
                        );
                    }
                    // Every failure due to state reports the same list.
                    for kind in CommandKind::ALL {
                        if let Err(TransitionError::WrongState { allowed_now, .. }) =
                            apply(&status, role, &sample(kind))
                        {
                            assert_eq!(allowed_now, now);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_table_has_one_row_per_command_in_order_and_keeps_its_role_rules() {
        assert_eq!(TRANSITIONS.len(), CommandKind::ALL.len());
        for (t, kind) in TRANSITIONS.iter().zip(CommandKind::ALL) {
            assert_eq!(t.command, kind);
            assert_eq!(kind.transition().command, kind);
            assert!(!t.from.is_empty() && !t.roles.is_empty(), "{kind:?}");
            if t.roles.contains(&Role::Operator) {
                assert!(t.roles.contains(&Role::Admin), "admin may do all an operator may: {kind:?}");
            }
            assert_eq!(t.roles.contains(&Role::Public), kind == CommandKind::Evaluate, "{kind:?}");
            assert_eq!(kind.requires_assigned_department(), t.roles == [Role::DepartmentStaff], "{kind:?}");
        }
    }

    #[test]
    fn terminal_means_no_way_out_and_open_means_not_finished() {
        for state in CaseState::ALL {
            let way_out = TRANSITIONS.iter().any(|t| t.from.contains(&state) && t.to != Target::Unchanged);
            assert_eq!(state.is_terminal(), !way_out, "{state:?}");
            let finished = matches!(state, CaseState::Closed | CaseState::Evaluated | CaseState::Voided);
            assert_eq!(state.is_open(), !finished, "{state:?}");
            assert_eq!(open311_status(state, false).status == "open", state.is_open(), "{state:?}");
        }
    }

    /// Walks every reachable status (bounded counters) and checks that following the clock
    /// effects keeps a simulated clock in step with each state's [`CaseState::clock`].
    #[test]
    fn clock_effects_keep_the_clock_in_step_with_the_state() {
        fn follow(mut phase: ClockPhase, effects: &[ClockEffect]) -> ClockPhase {
            for effect in effects {
                phase = match (*effect, phase) {
                    (ClockEffect::Start { step }, ClockPhase::Idle) => ClockPhase::Running(step),
                    (ClockEffect::Stop { step }, ClockPhase::Running(s) | ClockPhase::Paused(s)) if s == step => {
                        ClockPhase::Idle
                    }
                    (ClockEffect::Pause { step }, ClockPhase::Running(s)) if s == step => ClockPhase::Paused(step),
                    (ClockEffect::Resume { step }, ClockPhase::Paused(s)) if s == step => ClockPhase::Running(step),
                    (ClockEffect::Extend { step, minutes }, ClockPhase::Running(s)) if s == step && minutes > 0 => {
                        phase
                    }
                    (effect, phase) => panic!("{effect:?} while {phase:?}"),
                };
            }
            phase
        }
        let mut variants = Vec::new();
        for kind in CommandKind::ALL {
            variants.push(sample(kind));
        }
        variants.push(Command::Verify { passed: false, note: s("返工"), photos: vec![] });
        variants.push(Command::DecideExtension { approve: false, note: s("不批") });
        variants.push(Command::Void { reason: String::new(), duplicate_of: Some(1) });

        let start = CaseStatus::reported(CASE);
        assert_eq!(follow(ClockPhase::Idle, &report_clock()), start.state.clock());
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([start]);
        let mut reached = BTreeSet::new();
        while let Some(status) = queue.pop_front() {
            let c = status.counters;
            if [c.dispatches, c.returns, c.reworks, c.extensions, c.reopens, c.deferrals].iter().any(|&n| n > 2)
                || !seen.insert(format!("{status:?}"))
            {
                continue;
            }
            reached.insert(status.state.as_str());
            for role in Role::ALL {
                for command in &variants {
                    if let Ok(out) = apply(&status, role, command) {
                        assert_eq!(follow(status.state.clock(), &out.clock), out.status.state.clock(), "{command:?}");
                        assert!(
                            out.status.pending_extension.is_none() || WITH_DEPARTMENT.contains(&out.status.state),
                            "{out:?}"
                        );
                        queue.push_back(out.status);
                    }
                }
            }
        }
        assert_eq!(reached.len(), CaseState::ALL.len(), "every state is reachable: {reached:?}");
    }

    #[test]
    fn open311_mapping() {
        let expected = [
            (CaseState::Reported, "open", "submitted"),
            (CaseState::Filed, "open", "acknowledged"),
            (CaseState::Dispatched, "open", "action_scheduled"),
            (CaseState::Handling, "open", "in_progress"),
            (CaseState::Responded, "open", "awaiting_verification"),
            (CaseState::Verified, "open", "verified"),
            (CaseState::Closed, "closed", "fixed"),
            (CaseState::Evaluated, "closed", "fixed"),
            (CaseState::Shelved, "open", "shelved"),
            (CaseState::Deferred, "open", "deferred"),
            (CaseState::Voided, "closed", "invalid"),
        ];
        for (state, status, extended) in expected {
            assert_eq!(open311_status(state, false), Open311Status { status, extended }, "{state:?}");
        }
        assert_eq!(open311_status(CaseState::Voided, true).extended, "duplicate");
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for state in CaseState::ALL {
            assert_eq!(CaseState::from_name(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
            assert!(!state.label_zh().is_empty() && !state.label_en().is_empty());
        }
        for kind in CommandKind::ALL {
            assert_eq!(CommandKind::from_name(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(serde_json::to_value(sample(kind)).unwrap()["command"], kind.as_str());
            assert!(!kind.label_zh().is_empty() && !kind.label_en().is_empty());
        }
        for step in Step::ALL {
            assert_eq!(serde_json::to_value(step).unwrap(), step.as_str());
            assert!(!step.label_zh().is_empty());
        }
        assert_eq!(CaseState::from_name("nope"), None);
        assert_eq!(CommandKind::from_name("nope"), None);
    }

    #[test]
    fn commands_from_json_default_absent_fields_so_the_error_names_them() {
        let command: Command = serde_json::from_str(r#"{"command":"dispatch"}"#).unwrap();
        let err = apply(&in_state(CaseState::Filed), Role::Operator, &command).unwrap_err();
        assert_eq!(err.field(), Some("department"));
        let command: Command = serde_json::from_str(r#"{"command":"respond","note":"已修复"}"#).unwrap();
        let err = apply(&in_state(CaseState::Handling), Role::DepartmentStaff, &command).unwrap_err();
        assert_eq!(err.field(), Some("photos"));
        let command: Command = serde_json::from_str(r#"{"command":"accept"}"#).unwrap();
        assert_eq!(command, Command::Accept { note: String::new() });
        // A verdict is never defaulted: a missing `passed` must not mean "failed".
        assert!(serde_json::from_str::<Command>(r#"{"command":"verify"}"#).is_err());
        assert!(serde_json::from_str::<Command>(r#"{"command":"decide_extension"}"#).is_err());
        let effect = serde_json::to_value(ClockEffect::Extend { step: Step::Handle, minutes: 60 }).unwrap();
        assert_eq!(effect, serde_json::json!({"effect": "extend", "step": "handle", "minutes": 60}));
    }

    #[test]
    fn error_codes_are_distinct_and_namespaced() {
        let errors = [
            TransitionError::WrongState {
                command: CommandKind::File,
                current: CaseState::Closed,
                allowed_from: &[CaseState::Reported],
                role: Role::Operator,
                allowed_now: vec![],
            },
            TransitionError::WrongRole { command: CommandKind::File, role: Role::Public, allowed_roles: OPERATOR },
            TransitionError::MissingField { command: CommandKind::Return, field: "reason" },
            TransitionError::InvalidField { command: CommandKind::Evaluate, field: "score", message: s("x") },
            TransitionError::ExtensionPending { pending_minutes: 1 },
            TransitionError::NoExtensionPending,
        ];
        let codes: HashSet<_> = errors.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), errors.len());
        assert!(codes.iter().all(|c| c.starts_with("case.")));
    }
}
