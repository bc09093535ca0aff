//! `FilterPolicy::guard` (R-MDB-1, R-MDB-5): only allow-listed operators, anywhere in a
//! client-supplied filter, under limits, with scalar-only and typed fields.

use std::borrow::Cow;

use bson::{Bson, Document};

use crate::error::{Problem, Rejected, shown};
use crate::fields::{FieldKind, Fields, convert_value, converts, value_fits};
use crate::limits::Limits;
use crate::operators::{Context, operand_of};
use crate::walk::{Keys, Walker, is_dbref};

/// The logical operators that join filters.
pub(crate) const LOGICAL: &[&str] = &["$and", "$or", "$nor"];

/// Which filters a collection accepts from clients: the operator allow-list of R-MDB-1, the
/// limits of R-MDB-5, and per-field rules.
///
/// ```
/// use bson::doc;
/// use palisade_mongo::FilterPolicy;
///
/// let policy = FilterPolicy::default().scalar_field("password").object_id_field("_id");
/// assert!(policy.guard(&doc! {"age": {"$gte": 18}, "$or": [{"city": "Oslo"}, {"vip": true}]}).is_ok());
/// assert!(policy.guard(&doc! {"password": {"$ne": null}}).is_err());
/// assert!(policy.guard(&doc! {"_id": "not-an-id"}).is_err());
/// let guarded = policy.guard(&doc! {"_id": "65a1b2c3d4e5f60718293a4b"}).unwrap();
/// assert!(guarded.document().get_object_id("_id").is_ok());
/// ```
#[derive(Debug, Clone, Default)]
pub struct FilterPolicy {
    limits: Limits,
    /// Shared: a policy is built once and cloned into every request's scope.
    fields: std::sync::Arc<Fields>,
}

/// A filter that passed the guard: only allowed operators, within the limits, typed fields
/// converted (an ObjectId or date given as a string becomes one).
#[derive(Debug, Clone, PartialEq)]
pub struct Guarded {
    document: Document,
}

impl Guarded {
    /// The filter.
    #[must_use]
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The filter, owned.
    #[must_use]
    pub fn into_document(self) -> Document {
        self.document
    }
    /// A guarded filter whose encrypted fields were moved to their blind indexes (equality
    /// on a binary index value: nothing the guard would refuse).
    #[cfg(feature = "crypt")]
    pub(crate) fn rewritten(document: Document) -> Self {
        Self { document }
    }
}

impl FilterPolicy {
    /// The allow-list with these limits.
    #[must_use]
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            fields: std::sync::Arc::default(),
        }
    }

    /// The limits.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// `path` (`password`, `email`, `profile.ssn`) may only be compared with a plain value:
    /// `{"password": {"$ne": null}}` and `{"email": {"$gt": ""}}` are refused.
    /// The path is exact (no patterns: the documents around a scalar field are known from
    /// it, and only equality may compare them).
    #[must_use]
    pub fn scalar_field(mut self, path: &str) -> Self {
        std::sync::Arc::make_mut(&mut self.fields).exact(path, FieldKind::Scalar);
        self
    }

    /// Fields named by `pattern` hold ObjectIds: compared values must be ObjectIds,
    /// 24-hex-digit strings (converted) or null.
    ///
    /// `pattern` is a field path (`_id`, `project.owner`) or holds `*`, which stands for any
    /// characters within one segment: `*_id` (no dot) types every field whose last segment
    /// ends in `_id`, `_id` itself included; `meta.*_ref` matches whole paths. An exact path
    /// wins over a pattern, and a later pattern over an earlier one.
    ///
    /// ```
    /// use bson::doc;
    /// use palisade_mongo::FilterPolicy;
    ///
    /// let policy = FilterPolicy::default().object_id_field("*_id");
    /// assert!(policy.guard(&doc! {"client_id": "65a1b2c3d4e5f60718293a4b"}).is_ok());
    /// assert!(policy.guard(&doc! {"client_id": {"$ne": null}}).is_ok());
    /// let refused = policy.guard(&doc! {"client_id": "65a1"}).unwrap_err();
    /// assert_eq!(refused.path(), "filter.client_id");
    /// ```
    #[must_use]
    pub fn object_id_field(mut self, pattern: &str) -> Self {
        std::sync::Arc::make_mut(&mut self.fields).typed(pattern, FieldKind::ObjectId);
        self
    }

    /// Fields named by `pattern` (as in [`object_id_field`](Self::object_id_field)) hold
    /// UUIDs: compared values must be BSON UUIDs (binary subtype 4), UUID strings (hyphenated,
    /// simple, braced or URN; converted to subtype 4, the standard representation) or null.
    #[must_use]
    pub fn uuid_field(mut self, pattern: &str) -> Self {
        std::sync::Arc::make_mut(&mut self.fields).typed(pattern, FieldKind::Uuid);
        self
    }

    /// Fields named by `pattern` (as in [`object_id_field`](Self::object_id_field)) hold
    /// dates: compared values must be BSON dates, RFC 3339 strings (converted) or null.
    #[must_use]
    pub fn date_field(mut self, pattern: &str) -> Self {
        std::sync::Arc::make_mut(&mut self.fields).typed(pattern, FieldKind::Date);
        self
    }

    pub(crate) fn kind_of(&self, path: &str) -> Option<FieldKind> {
        self.fields.kind_of(path)
    }

    /// Checks a client-supplied filter: every operator at every depth (inside `$and`, `$or`,
    /// `$nor`, `$not`, `$elemMatch`, operands and arrays) must be one of `$and $or $nor $not
    /// $eq $ne $gt $gte $lt $lte $in $nin $exists $type $all $elemMatch $size`; field names may
    /// not hold `$`; JavaScript and regular expression values are refused; limits hold.
    ///
    /// # Errors
    /// [`Rejected`] naming the problem and its path (`filter.$or[1].name.$where`).
    pub fn guard(&self, filter: &Document) -> Result<Guarded, Rejected> {
        let typed = self.check(filter)?;
        let mut document = filter.clone();
        if typed {
            self.convert(&mut document, None);
        }
        Ok(Guarded { document })
    }

    /// [`guard`](Self::guard) for a filter the caller owns (as parsed from a request): no
    /// copy is made, typed fields are converted in place.
    ///
    /// ```
    /// use bson::doc;
    /// use palisade_mongo::FilterPolicy;
    ///
    /// let guarded = FilterPolicy::default().guard_owned(doc! {"n": {"$gt": 1}}).unwrap();
    /// assert_eq!(guarded.into_document(), doc! {"n": {"$gt": 1}});
    /// ```
    ///
    /// # Errors
    /// As [`guard`](Self::guard).
    pub fn guard_owned(&self, mut filter: Document) -> Result<Guarded, Rejected> {
        if self.check(&filter)? {
            self.convert(&mut filter, None);
        }
        Ok(Guarded { document: filter })
    }

    /// The walk: `Ok(true)` when a typed field holds a string to convert.
    fn check(&self, filter: &Document) -> Result<bool, Rejected> {
        let mut typed = false;
        Walker::run(self.limits, "filter", |walker| {
            self.filter(walker, filter, Context::TOP, &mut typed)
        })?;
        Ok(typed)
    }

    /// A query document: logical operators and field conditions.
    pub(crate) fn filter(
        &self,
        walker: &mut Walker,
        filter: &Document,
        at: Context<'_>,
        typed: &mut bool,
    ) -> Result<(), Rejected> {
        walker.document(filter, |walker, key, value| {
            if key.starts_with('$') && LOGICAL.contains(&key) {
                let at = if key == "$nor" { at.negate() } else { at };
                let Bson::Array(clauses) = value else {
                    return Err(walker.reject(operand_of(key, "a non-empty array of filters")));
                };
                if clauses.is_empty() {
                    return Err(walker.reject(operand_of(key, "a non-empty array of filters")));
                }
                walker.each(clauses, |walker, clause| match clause {
                    Bson::Document(clause) => self.filter(walker, clause, at, typed),
                    _ => Err(walker.reject(Problem::ShapeInvalid {
                        expected: "a filter document",
                    })),
                })
            } else if key == "$comment" {
                // A note for the server's logs and profiler: text, nothing it runs.
                match value {
                    Bson::String(text) => walker.string(text),
                    _ => Err(walker.reject(operand_of(key, "a string"))),
                }
            } else if key.starts_with('$') {
                Err(walker.reject(Problem::OperatorNotAllowed {
                    operator: shown(key),
                }))
            } else {
                walker.field_path(key)?;
                self.condition(walker, key, value, at, typed)
            }
        })
    }

    /// A field's condition (a `$pull` condition in an update) checked on `walker`'s walk; a
    /// typed field's string is accepted as in a filter, but not converted.
    pub(crate) fn check_condition(
        &self,
        walker: &mut Walker,
        field: &str,
        value: &Bson,
    ) -> Result<(), Rejected> {
        self.condition(walker, field, value, Context::TOP, &mut false)
    }

    /// A field's condition: a plain value, a literal sub-document, or an operator document.
    fn condition(
        &self,
        walker: &mut Walker,
        field: &str,
        value: &Bson,
        at: Context<'_>,
        typed: &mut bool,
    ) -> Result<(), Rejected> {
        // The field's full path: inside `$elemMatch`, below the array's.
        let path: Cow<'_, str> = match at.prefix {
            Some(prefix) => Cow::Owned(format!("{prefix}.{field}")),
            None => Cow::Borrowed(field),
        };
        let kind = self.kind_of(&path);
        let scalar = matches!(kind, Some(FieldKind::Scalar | FieldKind::ScalarParent));
        // Under `$nor` an equality is an inequality: `{"$nor": [{"password": "x"}]}` is
        // `password != x`, which enumerates a scalar field as `$ne` would.
        if scalar && at.negated {
            return Err(walker.reject(Problem::ScalarExpected));
        }
        // An operator document starts with an operator; a plain sub-document that holds one
        // further on is refused by the literal check.
        let is_operators =
            |d: &Document| d.keys().next().is_some_and(|k| k.starts_with('$')) && !is_dbref(d);
        match value {
            Bson::Document(operators) if is_operators(operators) => {
                // A scalar field takes no operator; the document around one only `$elemMatch`
                // (an array of such documents), whose conditions are checked by their path.
                let elem_match_only = operators.keys().all(|k| k == "$elemMatch");
                if kind == Some(FieldKind::Scalar)
                    || (kind == Some(FieldKind::ScalarParent) && !elem_match_only)
                {
                    return Err(walker.reject(Problem::ScalarExpected));
                }
                let inner = at.within(&path);
                walker.document(operators, |walker, operator, operand| {
                    if operator.starts_with('$') {
                        self.operator(walker, kind, operator, operand, inner, typed)
                    } else {
                        Err(walker.reject(Problem::ShapeInvalid {
                            expected: "either all operators or a plain sub-document",
                        }))
                    }
                })
            }
            Bson::Document(_) | Bson::Array(_) if kind == Some(FieldKind::Scalar) => {
                Err(walker.reject(Problem::ScalarExpected))
            }
            _ => self.value(walker, kind, value, typed),
        }
    }

    /// A compared value: a literal, of the field's type when it has one.
    pub(crate) fn value(
        &self,
        walker: &mut Walker,
        kind: Option<FieldKind>,
        value: &Bson,
        typed: &mut bool,
    ) -> Result<(), Rejected> {
        walker.literal(value, Keys::NoOperators)?;
        // Equality with null asks whether a scalar field exists: `$exists` by another name.
        if kind == Some(FieldKind::Scalar) && matches!(value, Bson::Null | Bson::Undefined) {
            return Err(walker.reject(Problem::ScalarExpected));
        }
        match value_fits(kind, value) {
            Ok(converts) => {
                *typed |= converts;
                Ok(())
            }
            Err(problem) => Err(walker.reject(problem)),
        }
    }

    /// Converts the strings of typed fields to ObjectIds and dates, after the guard passed.
    /// `prefix`: the full path of the array whose `$elemMatch` holds `filter`.
    fn convert(&self, filter: &mut Document, prefix: Option<&str>) {
        for (key, value) in filter.iter_mut() {
            let path = prefix.map(|p| format!("{p}.{key}"));
            let path = path.as_deref().unwrap_or(key);
            if LOGICAL.contains(&key.as_str()) {
                if let Bson::Array(clauses) = value {
                    for clause in clauses {
                        if let Bson::Document(clause) = clause {
                            self.convert(clause, prefix);
                        }
                    }
                }
            } else if let Some(kind) = converts(self.kind_of(path)) {
                convert_value(kind, value);
            } else if let Bson::Document(operators) = value
                && let Some(Bson::Document(inner)) = operators.get_mut("$elemMatch")
            {
                self.convert(inner, Some(path));
            }
        }
    }
}
