//! `stored_enum!`: an enum whose values are stored as text, with one spelling for SQL,
//! JSON and Rust.

/// A stored text that is none of its enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

/// Declares an enum stored as text: `as_str()`, `parse()` (an error on an unknown
/// value), `ALL`, `Display`, serde as the same strings, reading from a row, and an
/// OpenAPI schema (a string enum of the same values).
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order (the CHECK constraint lists the same).
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(s: &str) -> Result<Self, $crate::model::UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::model::UnknownValue { what: $what, value: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::model::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Text;
                impl serde::de::Visitor<'_> for Text {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "a {}", $what)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::parse(v).map_err(E::custom)
                    }
                }
                d.deserialize_str(Text)
            }
        }

        impl From<$name> for $crate::store::Value {
            fn from(v: $name) -> Self {
                $crate::store::Value::Text(v.as_str().to_owned())
            }
        }

        // The schema is built from the same list as `as_str`, so the document names
        // exactly the values the API writes.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($what))
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $crate::store::FromValue for $name {
            fn from_value(v: &$crate::store::Value) -> Result<Self, String> {
                match v {
                    $crate::store::Value::Text(s) => $name::parse(s).map_err(|e| e.to_string()),
                    $crate::store::Value::Null => Err("is NULL".into()),
                    other => Err(format!("{other:?} is not a {}", $what)),
                }
            }
        }
    };
}

/// For enums stored as text outside the model (job kinds): `crate::model::stored_enum!`.
pub(crate) use stored_enum;

#[cfg(test)]
mod tests {
    stored_enum! {
        enum Probe: "probe" {
            One = "one",
            Two = "two",
        }
    }

    #[test]
    fn values_round_trip_through_text_json_and_rows() {
        use crate::store::{FromValue, Value};
        for v in Probe::ALL {
            assert_eq!(Probe::parse(v.as_str()), Ok(*v));
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(json, format!("\"{v}\""));
            assert_eq!(serde_json::from_str::<Probe>(&json).unwrap(), *v);
            assert_eq!(Probe::from_value(&Value::from(*v)), Ok(*v));
        }
    }

    #[test]
    fn unknown_values_and_null_are_errors() {
        use crate::store::{FromValue, Value};
        assert_eq!(Probe::parse("three").unwrap_err().to_string(), "unknown probe \"three\"");
        assert!(serde_json::from_str::<Probe>("\"three\"").unwrap_err().to_string().contains("unknown probe"));
        assert_eq!(Probe::from_value(&Value::Null), Err("is NULL".into()));
        assert_eq!(Option::<Probe>::from_value(&Value::Null), Ok(None));
        assert!(Probe::from_value(&Value::Int(1)).is_err());
    }
}
