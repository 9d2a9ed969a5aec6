//! The component registry's fixed terms (部件属性代码), each with its stable name and the
//! Chinese label users read.

use serde::{Deserialize, Serialize};

macro_rules! term {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = ($text:literal, $zh:literal)),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name, as stored and sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The Chinese label.
            pub fn zh(self) -> &'static str {
                match self {
                    $($name::$variant => $zh),+
                }
            }

            /// Read the stable name or the Chinese label (what an imported sheet holds).
            pub fn parse(text: &str) -> Option<$name> {
                let t = text.trim();
                Self::ALL.iter().copied().find(|v| v.as_str() == t || v.zh() == t)
            }
        }
    };
}

term!(
    /// The component's state (部件状态).
    State {
        /// 完好.
        Intact = ("intact", "完好"),
        /// 破损.
        Damaged = ("damaged", "破损"),
        /// 丢失.
        Missing = ("missing", "丢失"),
        /// 占用.
        Occupied = ("occupied", "占用"),
    }
);

term!(
    /// Whether the record is current (现势性).
    Currency {
        /// 在用.
        InUse = ("in_use", "在用"),
        /// 作废.
        Void = ("void", "作废"),
    }
);

term!(
    /// Where the record comes from (数据来源).
    DataSource {
        /// 实测: surveyed.
        Surveyed = ("surveyed", "实测"),
        /// 地形图: from the topographic map.
        TopographicMap = ("topographic_map", "地形图"),
        /// 调绘: field-drawn.
        FieldDrawn = ("field_drawn", "调绘"),
        /// 其它.
        Other = ("other", "其它"),
    }
);

term!(
    /// How exactly the position is known (定位精度).
    Accuracy {
        /// A: ±0.5 m.
        A = ("a", "A级（±0.5米）"),
        /// B: ±1 m.
        B = ("b", "B级（±1米）"),
        /// C: ±10 m.
        C = ("c", "C级（±10米）"),
    }
);

impl Accuracy {
    /// The tolerance in metres.
    pub fn metres(self) -> f64 {
        match self {
            Accuracy::A => 0.5,
            Accuracy::B => 1.0,
            Accuracy::C => 10.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_read_back_by_name_and_label() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(*s));
            assert_eq!(State::parse(s.zh()), Some(*s));
        }
        assert_eq!(State::parse(" 破损 "), Some(State::Damaged));
        assert_eq!(State::parse("broken"), None);
        assert_eq!(Currency::parse("作废"), Some(Currency::Void));
        assert_eq!(DataSource::parse("topographic_map"), Some(DataSource::TopographicMap));
        assert_eq!(Accuracy::parse("b").map(Accuracy::metres), Some(1.0));
    }
}
