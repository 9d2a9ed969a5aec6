//! City components (城市部件): manhole covers, street lamps, bins, trees, signs… each with one
//! unified 16-digit code on one map (GB/T 30428.2 lineage, CJ/T 214).
//!
//! - [`code`]: the component code — county 6 + major class 2 + minor class 2 + serial 6 by
//!   default, or a deployment's own split of the same 16 digits (6+2+3+5) — parsed with the
//!   part and position of any error, built from its parts, and the next serial of a county and
//!   class.
//! - [`vocab`]: the registry's fixed terms — state (完好/破损/丢失/占用), currency (在用/作废),
//!   data source (实测/地形图/调绘/其它) and location accuracy class (A/B/C).
//!
//! The catalogue, the registry rules and the storage ports follow in this crate.

pub mod code;
pub mod vocab;
