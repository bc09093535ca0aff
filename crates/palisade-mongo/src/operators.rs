//! The operators of a field's operator document, their operand shapes, and where a
//! condition stands (inside `$elemMatch`, under a negation).

use bson::Bson;

use crate::error::{Problem, Rejected, shown};
use crate::fields::FieldKind;
use crate::guard::{FilterPolicy, LOGICAL};
use crate::walk::Walker;

impl FilterPolicy {
    /// One operator of a field's operator document.
    pub(crate) fn operator(
        &self,
        walker: &mut Walker,
        kind: Option<FieldKind>,
        operator: &str,
        operand: &Bson,
        at: Context<'_>,
        typed: &mut bool,
    ) -> Result<(), Rejected> {
        match operator {
            "$eq" | "$ne" | "$gt" | "$gte" | "$lt" | "$lte" => {
                self.value(walker, kind, operand, typed)
            }
            "$in" | "$nin" => {
                let Bson::Array(items) = operand else {
                    return Err(walker.reject(operand_of(operator, "an array")));
                };
                walker.each(items, |walker, item| self.value(walker, kind, item, typed))
            }
            "$all" => {
                let Bson::Array(items) = operand else {
                    return Err(walker.reject(operand_of(operator, "an array")));
                };
                walker.each(items, |walker, item| match item {
                    Bson::Document(d) if d.len() == 1 && d.contains_key("$elemMatch") => walker
                        .document(d, |walker, _, inner| {
                            self.elem_match(walker, inner, kind, at, typed)
                        }),
                    _ => self.value(walker, kind, item, typed),
                })
            }
            "$exists" => match operand {
                Bson::Boolean(_) | Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) => Ok(()),
                _ => Err(walker.reject(operand_of(operator, "a boolean"))),
            },
            "$type" => match operand {
                Bson::Array(types) if !types.is_empty() => walker.each(types, |walker, t| {
                    if bson_type(t) {
                        Ok(())
                    } else {
                        Err(walker.reject(operand_of("$type", "BSON type names or numbers")))
                    }
                }),
                t if bson_type(t) => Ok(()),
                _ => Err(walker.reject(operand_of(operator, "a BSON type name or number"))),
            },
            // The server takes a whole number that fits an int64 and is not negative.
            "$size" => match operand {
                Bson::Int32(n) if *n >= 0 => Ok(()),
                Bson::Int64(n) if *n >= 0 => Ok(()),
                Bson::Double(n)
                    if *n >= 0.0 && n.fract() == 0.0 && *n < 9.223_372_036_854_776e18 =>
                {
                    Ok(())
                }
                _ => Err(walker.reject(operand_of(operator, "a non-negative integer"))),
            },
            "$elemMatch" => self.elem_match(walker, operand, kind, at, typed),
            "$not" => match operand {
                Bson::Document(inner) if !inner.is_empty() => {
                    walker.document(inner, |walker, operator, operand| {
                        if operator.starts_with('$') {
                            self.operator(walker, kind, operator, operand, at, typed)
                        } else {
                            Err(walker.reject(operand_of("$not", "an operator document")))
                        }
                    })
                }
                Bson::RegularExpression(_) => {
                    Err(walker.reject(Problem::ValueKindNotAllowed { kind: "regex" }))
                }
                _ => Err(walker.reject(operand_of("$not", "an operator document"))),
            },
            other => Err(walker.reject(Problem::OperatorNotAllowed {
                operator: shown(other),
            })),
        }
    }

    /// `$elemMatch`'s operand: operators on the elements themselves, or a filter on their
    /// fields.
    pub(crate) fn elem_match(
        &self,
        walker: &mut Walker,
        operand: &Bson,
        kind: Option<FieldKind>,
        at: Context<'_>,
        typed: &mut bool,
    ) -> Result<(), Rejected> {
        let Bson::Document(inner) = operand else {
            return Err(walker.reject(operand_of("$elemMatch", "a document")));
        };
        let on_elements = !inner.is_empty()
            && inner
                .keys()
                .all(|k| k.starts_with('$') && !LOGICAL.contains(&k.as_str()));
        if on_elements {
            // Operators on documents that hold a scalar field order by it.
            if kind == Some(FieldKind::ScalarParent) {
                return Err(walker.reject(Problem::ScalarExpected));
            }
            walker.document(inner, |walker, operator, operand| {
                // The elements are what a typed field holds: their operands are typed too.
                self.operator(walker, kind, operator, operand, at, typed)
            })
        } else {
            self.filter(walker, inner, at, typed)
        }
    }
}

/// A `$type` operand the server knows: an alias (`"string"`, `"number"`) or a type number
/// (`-1`, `1` to `19`, `127`), written as any whole number.
fn bson_type(operand: &Bson) -> bool {
    const ALIASES: &[&str] = &[
        "double",
        "string",
        "object",
        "array",
        "binData",
        "undefined",
        "objectId",
        "bool",
        "date",
        "null",
        "regex",
        "dbPointer",
        "javascript",
        "symbol",
        "javascriptWithScope",
        "int",
        "timestamp",
        "long",
        "decimal",
        "minKey",
        "maxKey",
        "number",
    ];
    let number = match operand {
        Bson::String(name) => return ALIASES.contains(&name.as_str()),
        Bson::Int32(n) => i64::from(*n),
        Bson::Int64(n) => *n,
        Bson::Double(n) if n.fract() == 0.0 && n.abs() < 1e6 => {
            #[allow(clippy::cast_possible_truncation, reason = "a whole number under 1e6")]
            let whole = *n as i64;
            whole
        }
        _ => return false,
    };
    matches!(number, -1 | 1..=19 | 127)
}

/// An operand problem for one of the allow-listed operators (by its static name).
pub(crate) fn operand_of(operator: &str, expected: &'static str) -> Problem {
    const NAMES: &[&str] = &[
        "$and",
        "$or",
        "$nor",
        "$not",
        "$in",
        "$nin",
        "$all",
        "$exists",
        "$type",
        "$size",
        "$elemMatch",
        "$comment",
    ];
    let operator = NAMES
        .iter()
        .find(|n| **n == operator)
        .copied()
        .unwrap_or("operator");
    Problem::OperandInvalid { operator, expected }
}

/// The operators of R-MDB-1.
pub const ALLOWED_OPERATORS: &[&str] = &[
    "$and",
    "$or",
    "$nor",
    "$not",
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$exists",
    "$type",
    "$all",
    "$elemMatch",
    "$size",
];

/// Where a condition stands: inside `$elemMatch` on the array at `prefix` (its full path,
/// which typed and scalar field names are matched against), and under an odd number of
/// negations (`$nor`, `$not`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'p> {
    pub(crate) prefix: Option<&'p str>,
    pub(crate) negated: bool,
}

impl<'p> Context<'p> {
    pub(crate) const TOP: Self = Self {
        prefix: None,
        negated: false,
    };

    pub(crate) fn negate(self) -> Self {
        Self {
            negated: !self.negated,
            ..self
        }
    }

    /// Operators on `field`: an `$elemMatch` among them matches the elements of `field`.
    pub(crate) fn within(self, field: &'p str) -> Self {
        Self {
            prefix: Some(field),
            ..self
        }
    }
}
