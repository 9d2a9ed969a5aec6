//! A case filter as SQL (筛选条件), written once for both backends over `sqlx::QueryBuilder`
//! (`push_bind` writes each database's own placeholder). What the dialects say differently is
//! the backend's [`CaseFilterSql`]: how a column is tested for a prefix, how a list of states or
//! grids is written, how a time is bound (SQLite: microseconds; PostgreSQL: `timestamptz`), and
//! the planner hints each needs.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};
use zhili_case::model::CaseFilter;
use zhili_case::workflow::CaseState;
use zhili_core::codes::DivisionCode;

/// What one backend's SQL says its own way in a filter.
pub trait CaseFilterSql {
    /// The database.
    type DB: Database;
    /// The clause that opens a filter and matches every row (` WHERE 1 = 1`, ` WHERE true`).
    const WHERE_ALL: &'static str;
    /// What precedes the bound instant of `overdue_at` (` AND deadline < `, with whatever the
    /// dialect needs for the index it should use).
    const OVERDUE_BEFORE: &'static str;

    /// `AND column starts with prefix` (nothing for an empty prefix).
    fn push_prefix(q: &mut QueryBuilder<'_, Self::DB>, column: &str, prefix: &str);

    /// `AND` the cases within the division (by default a prefix of `division`).
    fn push_within(q: &mut QueryBuilder<'_, Self::DB>, within: &DivisionCode) {
        Self::push_prefix(q, "division", within.as_str());
    }

    /// `AND state is one of states` (nothing when there are none).
    fn push_states(q: &mut QueryBuilder<'_, Self::DB>, states: &[CaseState]);

    /// `AND grid is one of grids` (never called with none).
    fn push_grids(q: &mut QueryBuilder<'_, Self::DB>, grids: &[String]);

    /// Bind an instant as the dialect stores it.
    fn push_time(q: &mut QueryBuilder<'_, Self::DB>, t: DateTime<Utc>);
}

/// The `WHERE` clause of a [`CaseFilter`] over `cases` (every field; absent or empty means
/// "any"); with `with_states` false the states are left to the caller.
pub fn push_case_filter<'args, D>(q: &mut QueryBuilder<'args, D::DB>, f: &CaseFilter, with_states: bool)
where
    D: CaseFilterSql,
    String: Encode<'args, D::DB> + Type<D::DB>,
    i64: Encode<'args, D::DB> + Type<D::DB>,
    &'args str: Encode<'args, D::DB> + Type<D::DB>,
{
    q.push(D::WHERE_ALL);
    if let Some(w) = &f.within {
        D::push_within(q, w);
    }
    if with_states {
        D::push_states(q, &f.states);
    }
    push_class_department_grids::<D>(q, f);
    if let Some(r) = f.reporter_id {
        q.push(" AND reporter_id = ").push_bind(r);
    }
    if let Some(s) = f.source {
        q.push(" AND source = ").push_bind(s.as_str());
    }
    if let Some(t) = f.from {
        q.push(" AND reported_at >= ");
        D::push_time(q, t);
    }
    if let Some(t) = f.to {
        q.push(" AND reported_at < ");
        D::push_time(q, t);
    }
    if let Some(t) = f.overdue_at {
        q.push(D::OVERDUE_BEFORE);
        D::push_time(q, t);
    }
    if let Some(t) = f.due_from {
        q.push(" AND deadline >= ");
        D::push_time(q, t);
    }
    if let Some(t) = f.closed_from {
        q.push(" AND closed_at >= ");
        D::push_time(q, t);
    }
    if let Some(id) = f.id_below {
        q.push(" AND id < ").push_bind(id);
    }
}

/// The conditions of a filter that a rollup keeps (`AND` after the rollup's own period): the
/// division (a prefix of `division_column`), the class prefix, the department and the grids.
pub fn push_rollup_filter<'args, D>(q: &mut QueryBuilder<'args, D::DB>, f: &CaseFilter, division_column: &str)
where
    D: CaseFilterSql,
    String: Encode<'args, D::DB> + Type<D::DB>,
{
    if let Some(w) = &f.within {
        D::push_prefix(q, division_column, w.as_str());
    }
    push_class_department_grids::<D>(q, f);
}

fn push_class_department_grids<'args, D>(q: &mut QueryBuilder<'args, D::DB>, f: &CaseFilter)
where
    D: CaseFilterSql,
    String: Encode<'args, D::DB> + Type<D::DB>,
{
    if let Some(p) = &f.class_prefix {
        D::push_prefix(q, "class_code", p);
    }
    if let Some(d) = &f.department {
        q.push(" AND department = ").push_bind(d.clone());
    }
    if !f.grids.is_empty() {
        D::push_grids(q, &f.grids);
    }
}
