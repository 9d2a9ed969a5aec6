//! CAP's geometry: WGS-84 points as `lat,lon`, polygon rings and circles (CAP 1.2 §3.2.4).
//!
//! Every value here is valid by construction: a [`Polygon`] is a closed ring of at least four
//! pairs, a [`Circle`] has a finite radius ≥ 0, a [`Point`] is inside ±90/±180. A danger-zone
//! polygon drawn at survey precision can have thousands of vertices (a peer sent 6,208), which
//! some receivers refuse: [`Polygon::simplified`] keeps a ring closed with at most N vertices.

use std::fmt;
use std::str::FromStr;

/// What is wrong with a point, ring or circle; `pair` counts from 0 in the text or the list.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoError {
    /// A pair is not two decimal numbers `lat,lon`.
    #[error("pair {pair} `{text}` is not `lat,lon` in decimal degrees")]
    Pair {
        /// Which pair.
        pair: usize,
        /// Its text.
        text: String,
    },
    /// A latitude outside −90…90 (or not finite).
    #[error("pair {pair}: latitude {value} is outside -90..90")]
    Latitude {
        /// Which pair.
        pair: usize,
        /// The value.
        value: f64,
    },
    /// A longitude outside −180…180 (or not finite).
    #[error("pair {pair}: longitude {value} is outside -180..180")]
    Longitude {
        /// Which pair.
        pair: usize,
        /// The value.
        value: f64,
    },
    /// A ring with fewer than four pairs.
    #[error("a polygon needs at least 4 pairs (first = last), found {found}")]
    TooFewPoints {
        /// How many pairs.
        found: usize,
    },
    /// A ring whose last pair differs from its first.
    #[error("the polygon is not closed: first pair {first}, last pair {last}")]
    NotClosed {
        /// The first pair.
        first: Point,
        /// The last pair.
        last: Point,
    },
    /// A circle that is not `lat,lon radius`.
    #[error("circle `{text}` is not `lat,lon radius` (radius in km)")]
    CircleForm {
        /// Its text.
        text: String,
    },
    /// A radius that is negative or not finite.
    #[error("circle radius {value} km is not a finite number >= 0")]
    Radius {
        /// The value.
        value: f64,
    },
    /// Simplification asked for fewer than four vertices (no ring has fewer).
    #[error("a ring cannot be simplified to {max} vertices; at least 4 (first = last)")]
    SimplifyTooFew {
        /// The maximum asked for.
        max: usize,
    },
}

/// A WGS-84 position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    lat: f64,
    lon: f64,
}

impl Point {
    /// A point; `pair` only names it in the error.
    fn checked(lat: f64, lon: f64, pair: usize) -> Result<Self, GeoError> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(GeoError::Latitude { pair, value: lat });
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(GeoError::Longitude { pair, value: lon });
        }
        Ok(Point { lat, lon })
    }

    /// A point at `lat`, `lon` (degrees, WGS-84).
    pub fn new(lat: f64, lon: f64) -> Result<Self, GeoError> {
        Self::checked(lat, lon, 0)
    }

    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        self.lon
    }

    fn parse(text: &str, pair: usize) -> Result<Self, GeoError> {
        let bad = || GeoError::Pair { pair, text: text.to_owned() };
        let (lat, lon) = text.split_once(',').ok_or_else(bad)?;
        Self::checked(decimal(lat).ok_or_else(bad)?, decimal(lon).ok_or_else(bad)?, pair)
    }
}

impl fmt::Display for Point {
    /// `lat,lon`, each the shortest decimal that reads back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.lat, self.lon)
    }
}

/// A decimal number `[+-]digits[.digits]`: no exponents, `inf` or `NaN`.
pub(crate) fn decimal(text: &str) -> Option<f64> {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (int, frac) = body.split_once('.').unwrap_or((body, "0"));
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !(ok(int) && ok(frac)) {
        return None;
    }
    text.parse().ok()
}

/// A closed ring (CAP `polygon`): at least four pairs, the last equal to the first.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    points: Vec<Point>,
}

impl Polygon {
    /// A ring from its pairs, first = last.
    pub fn new(points: Vec<Point>) -> Result<Self, GeoError> {
        if points.len() < 4 {
            return Err(GeoError::TooFewPoints { found: points.len() });
        }
        let (first, last) = (points[0], points[points.len() - 1]);
        if first != last {
            return Err(GeoError::NotClosed { first, last });
        }
        Ok(Polygon { points })
    }

    /// A ring from `(lat, lon)` pairs; closes it if the last pair is not the first.
    pub fn closing(pairs: &[(f64, f64)]) -> Result<Self, GeoError> {
        let mut points = pairs
            .iter()
            .enumerate()
            .map(|(i, &(lat, lon))| Point::checked(lat, lon, i))
            .collect::<Result<Vec<_>, _>>()?;
        if let (Some(&first), Some(&last)) = (points.first(), points.last()) {
            if first != last {
                points.push(first);
            }
        }
        Self::new(points)
    }

    /// The pairs, first = last.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// The ring with at most `max_vertices` pairs (counting the closing one), still closed.
    ///
    /// Douglas–Peucker on the ring split at its first vertex and the vertex farthest from it;
    /// each vertex gets the distance at which the recursion picks it (capped by its parent's),
    /// and the `max_vertices − 1` most significant are kept in their order. Distances are
    /// planar in degrees with longitude scaled by cos(latitude), enough for a village's zone.
    /// A ring already small enough comes back unchanged.
    pub fn simplified(&self, max_vertices: usize) -> Result<Polygon, GeoError> {
        if max_vertices < 4 {
            return Err(GeoError::SimplifyTooFew { max: max_vertices });
        }
        if self.points.len() <= max_vertices {
            return Ok(self.clone());
        }
        let ring = &self.points[..self.points.len() - 1];
        let n = ring.len();
        let mean_lat = ring.iter().map(|p| p.lat).sum::<f64>() / n as f64;
        let k = mean_lat.to_radians().cos();
        let xy: Vec<(f64, f64)> = ring.iter().map(|p| (p.lon * k, p.lat)).collect();
        let far = (1..n).max_by(|&a, &b| dist2(xy[0], xy[a]).total_cmp(&dist2(xy[0], xy[b]))).unwrap_or(1);
        let mut weight = vec![f64::NEG_INFINITY; n];
        weight[0] = f64::INFINITY;
        weight[far] = f64::INFINITY;
        // Chains (from, to) over indices, `to == n` standing for vertex 0 again.
        let mut stack = vec![(0, far, f64::INFINITY), (far, n, f64::INFINITY)];
        while let Some((i, j, cap)) = stack.pop() {
            if j <= i + 1 {
                continue;
            }
            let (a, b) = (xy[i], xy[j % n]);
            let (best, d) = (i + 1..j)
                .map(|m| (m, segment_distance(xy[m], a, b)))
                .fold((i + 1, f64::NEG_INFINITY), |acc, x| if x.1 > acc.1 { x } else { acc });
            let w = d.min(cap);
            weight[best] = w;
            stack.push((i, best, w));
            stack.push((best, j, w));
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| weight[b].total_cmp(&weight[a]).then(a.cmp(&b)));
        let mut keep: Vec<usize> = order.into_iter().take(max_vertices - 1).collect();
        keep.sort_unstable();
        let mut points: Vec<Point> = keep.into_iter().map(|i| ring[i]).collect();
        points.push(ring[0]);
        Polygon::new(points)
    }
}

fn dist2(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

/// Distance from `p` to the segment `a`–`b`.
fn segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let len2 = dist2(a, b);
    if len2 == 0.0 {
        return dist2(p, a).sqrt();
    }
    let t = (((p.0 - a.0) * (b.0 - a.0) + (p.1 - a.1) * (b.1 - a.1)) / len2).clamp(0.0, 1.0);
    dist2(p, (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))).sqrt()
}

impl fmt::Display for Polygon {
    /// `lat,lon lat,lon …` as CAP writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.points.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl FromStr for Polygon {
    type Err = GeoError;

    /// Whitespace-separated `lat,lon` pairs.
    fn from_str(text: &str) -> Result<Self, GeoError> {
        let points = text
            .split_ascii_whitespace()
            .enumerate()
            .map(|(i, pair)| Point::parse(pair, i))
            .collect::<Result<Vec<_>, _>>()?;
        Polygon::new(points)
    }
}

/// A circle (CAP `circle`): a centre and a radius in kilometres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    center: Point,
    radius_km: f64,
}

impl Circle {
    /// A circle around `center` of `radius_km` ≥ 0.
    pub fn new(center: Point, radius_km: f64) -> Result<Self, GeoError> {
        if !(radius_km.is_finite() && radius_km >= 0.0) {
            return Err(GeoError::Radius { value: radius_km });
        }
        Ok(Circle { center, radius_km })
    }

    /// The centre.
    pub fn center(&self) -> Point {
        self.center
    }

    /// The radius in kilometres.
    pub fn radius_km(&self) -> f64 {
        self.radius_km
    }
}

impl fmt::Display for Circle {
    /// `lat,lon radius`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.center, self.radius_km)
    }
}

impl FromStr for Circle {
    type Err = GeoError;

    /// `lat,lon radius`, separated by whitespace.
    fn from_str(text: &str) -> Result<Self, GeoError> {
        let mut parts = text.split_ascii_whitespace();
        let (Some(center), Some(radius), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(GeoError::CircleForm { text: text.to_owned() });
        };
        let center = Point::parse(center, 0)?;
        let radius = decimal(radius).ok_or_else(|| GeoError::CircleForm { text: text.to_owned() })?;
        Circle::new(center, radius)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_rings() {
        let p: Polygon = "36.4,117.8 36.5,117.8 36.5,117.9 36.4,117.8".parse().unwrap();
        assert_eq!(p.points().len(), 4);
        assert_eq!(p.to_string(), "36.4,117.8 36.5,117.8 36.5,117.9 36.4,117.8");
        assert_eq!("36.4,117.8 36.5,117.8 36.5,117.9".parse::<Polygon>(), Err(GeoError::TooFewPoints { found: 3 }));
        assert!(matches!(
            "36.4,117.8 36.5,117.8 36.5,117.9 36.4,117.7".parse::<Polygon>(),
            Err(GeoError::NotClosed { .. })
        ));
        assert_eq!(
            "36.4,117.8 91,117.8 36.5,117.9 36.4,117.8".parse::<Polygon>(),
            Err(GeoError::Latitude { pair: 1, value: 91.0 })
        );
        assert!(matches!("36.4;117.8 1,1 1,2 36.4;117.8".parse::<Polygon>(), Err(GeoError::Pair { pair: 0, .. })));
        assert!(matches!("1e1,117 1,1 1,2 1e1,117".parse::<Polygon>(), Err(GeoError::Pair { pair: 0, .. })));
        assert!(matches!("NaN,117 1,1 1,2 NaN,117".parse::<Polygon>(), Err(GeoError::Pair { pair: 0, .. })));
    }

    #[test]
    fn reads_circles() {
        let c: Circle = "36.45,117.85 2.5".parse().unwrap();
        assert_eq!(c.to_string(), "36.45,117.85 2.5");
        assert!(matches!("36.45,117.85".parse::<Circle>(), Err(GeoError::CircleForm { .. })));
        assert!(matches!("36.45,117.85 -1".parse::<Circle>(), Err(GeoError::Radius { .. })));
    }

    #[test]
    fn simplification_keeps_the_shape_closed_and_small() {
        // A square with 1,000 points on each side: its corners must survive.
        let mut pairs = Vec::new();
        for side in 0..4 {
            for i in 0..1000 {
                let t = i as f64 / 1000.0 * 0.1;
                pairs.push(match side {
                    0 => (36.0, 117.0 + t),
                    1 => (36.0 + t, 117.1),
                    2 => (36.1, 117.1 - t),
                    _ => (36.1 - t, 117.0),
                });
            }
        }
        let ring = Polygon::closing(&pairs).unwrap();
        assert_eq!(ring.points().len(), 4001);
        let small = ring.simplified(5).unwrap();
        let mut corners: Vec<String> = small.points()[..4].iter().map(|p| p.to_string()).collect();
        corners.sort();
        assert_eq!(corners, ["36,117", "36,117.1", "36.1,117", "36.1,117.1"]);
        assert_eq!(small.points().first(), small.points().last());
        assert_eq!(ring.simplified(3), Err(GeoError::SimplifyTooFew { max: 3 }));
        assert_eq!(small.simplified(100).unwrap(), small);
    }
}
