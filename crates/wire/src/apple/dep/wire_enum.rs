//! `wire_enum!`: the one shape of every DEP status word (`SUCCESS`, `added`, `pushed`, …).
//!
//! Each generated enum has one variant per documented word plus `Other(String)` for a word
//! Apple adds later, so one new word never fails a whole page. Words are matched ignoring
//! ASCII case (nanodep compares `op_type` case-insensitively, dep-api.md §5.3); the first
//! spelling listed is the one written.

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A word this version of adebox does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every documented word, for exhaustive tests and the simulator.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word as Apple writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(s) => s,
                }
            }

            /// Reads a word (ASCII case ignored); unknown words become `Other`.
            pub fn from_wire(s: &str) -> Self {
                $(
                    if s.eq_ignore_ascii_case($wire) $(|| s.eq_ignore_ascii_case($alias))* {
                        return $name::$variant;
                    }
                )+
                $name::Other(s.to_owned())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok($name::from_wire(&s))
            }
        }
    };
}

pub(crate) use wire_enum;
