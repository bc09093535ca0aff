//! `Rejected`: why a filter, update, document or pipeline is refused, and where.

use std::fmt;

/// The longest operator or field name quoted in a message; a longer one is cut with `...`.
const NAME_CHARS: usize = 64;

/// What is wrong with a client-supplied filter, update, document or pipeline. Every variant
/// is a client error: [`Rejected::status`] is 400, or 422 for a missing reference.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// An operator outside the allow-list (`$where`, `$expr`, `$regex`, an unknown `$` key).
    OperatorNotAllowed {
        /// The operator as written (cut to 64 characters).
        operator: String,
    },
    /// A JavaScript or regular expression value, which runs code or can be made to backtrack.
    ValueKindNotAllowed {
        /// `javascript` or `regex`.
        kind: &'static str,
    },
    /// A field name with a `$` where only plain names belong, an empty segment, or a NUL.
    FieldNameInvalid,
    /// An operator's operand of the wrong shape (`$in` without an array, `$size` negative).
    OperandInvalid {
        /// The operator.
        operator: &'static str,
        /// What it needs, in words.
        expected: &'static str,
    },
    /// Nested deeper than the limit (every document and array counts as a level).
    DepthExceeded {
        /// The limit.
        limit: usize,
    },
    /// More keys in total than the limit.
    KeysExceeded {
        /// The limit.
        limit: usize,
    },
    /// An array longer than the limit.
    ArrayTooLong {
        /// The limit.
        limit: usize,
    },
    /// A string longer than the limit, in bytes.
    StringTooLong {
        /// The limit.
        limit: usize,
    },
    /// A scalar-only field (`password`, `email`) compared with an operator or a document.
    ScalarExpected,
    /// A field that holds ObjectIds compared with something that is not one.
    ObjectIdInvalid,
    /// A field that holds UUIDs compared with something that is not one.
    UuidInvalid,
    /// A field that holds dates compared with something that is not one.
    DateInvalid,
    /// A write that would set, change or remove the owner field.
    OwnerFieldWritten,
    /// A client write to `created_by`, `created_at`, `updated_by` or `updated_at`, which only
    /// the request's context sets.
    AuditFieldWritten,
    /// An aggregation stage outside the allow-list (`$out`, `$merge`, `$unionWith`, ...).
    StageNotAllowed {
        /// The stage as written (cut to 64 characters).
        stage: String,
    },
    /// A declared reference to a document that does not exist (or belongs to another owner):
    /// the one 422.
    ReferenceMissing {
        /// The referenced collection.
        collection: String,
        /// The id, as a message shows it (ObjectIds in hex, strings cut to 64 characters).
        id: String,
    },
    /// An update that would change a declared reference other than by setting or adding
    /// ids (`$inc`, `$min`, `$rename` into it, a path below it), which cannot be checked.
    ReferenceUnchecked,
    /// A document, update or pipeline that is not of the expected form.
    ShapeInvalid {
        /// What was expected, in words.
        expected: &'static str,
    },
    /// A filter, update or pipeline asks of an encrypted field what cannot be done without
    /// decrypting it (a comparison other than equality on its blind index, an `$inc`, a
    /// path inside it); the path names the field.
    FieldEncrypted {
        /// What was asked of it, in words.
        problem: &'static str,
    },
}

impl Problem {
    /// A stable id for the problem (`operator-not-allowed`), for logs and problem details.
    #[must_use]
    pub fn id(&self) -> &'static str {
        match self {
            Self::OperatorNotAllowed { .. } => "operator-not-allowed",
            Self::ValueKindNotAllowed { .. } => "value-kind-not-allowed",
            Self::FieldNameInvalid => "field-name-invalid",
            Self::OperandInvalid { .. } => "operand-invalid",
            Self::DepthExceeded { .. } => "depth-exceeded",
            Self::KeysExceeded { .. } => "keys-exceeded",
            Self::ArrayTooLong { .. } => "array-too-long",
            Self::StringTooLong { .. } => "string-too-long",
            Self::ScalarExpected => "scalar-expected",
            Self::ObjectIdInvalid => "object-id-invalid",
            Self::UuidInvalid => "uuid-invalid",
            Self::DateInvalid => "date-invalid",
            Self::OwnerFieldWritten => "owner-field-written",
            Self::AuditFieldWritten => "audit-field-written",
            Self::StageNotAllowed { .. } => "stage-not-allowed",
            Self::ReferenceMissing { .. } => "reference-missing",
            Self::ReferenceUnchecked => "reference-unchecked",
            Self::ShapeInvalid { .. } => "shape-invalid",
            Self::FieldEncrypted { .. } => "field-encrypted",
        }
    }
}

/// A refusal: the problem and the path where it was found (`filter.$or[1].name.$where`),
/// never a value from the input.
///
/// ```
/// use bson::doc;
/// use palisade_mongo::FilterPolicy;
///
/// let rejected = FilterPolicy::default()
///     .guard(&doc! {"$or": [{"name": "ann"}, {"name": {"$where": "sleep(100)"}}]})
///     .unwrap_err();
/// assert_eq!(rejected.path(), "filter.$or[1].name.$where");
/// assert_eq!(rejected.status(), 400);
/// assert_eq!(
///     rejected.to_string(),
///     "operator `$where` is not allowed at filter.$or[1].name.$where"
/// );
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Rejected {
    // Boxed: a walk returns `Result<(), Rejected>` at every key, and a pointer-sized error
    // keeps the path that passes cheap.
    inner: Box<Refusal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Refusal {
    problem: Problem,
    path: String,
}

impl fmt::Debug for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("problem", &self.inner.problem)
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Rejected {
    pub(crate) fn new(problem: Problem, path: String) -> Self {
        Self {
            inner: Box::new(Refusal { problem, path }),
        }
    }

    /// The same refusal with `prefix` put in front of its path (a walk's key, index or root
    /// on the way out).
    pub(crate) fn under(mut self, prefix: &str) -> Self {
        self.inner.path.insert_str(0, prefix);
        self
    }

    /// What is wrong.
    #[must_use]
    pub fn problem(&self) -> &Problem {
        &self.inner.problem
    }

    /// Where: `filter`, `update`, `document` or `pipeline[N]`, then keys and `[index]`es.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// The HTTP status a web handler should answer with: 422 for a missing reference (the
    /// request is well formed but refers to nothing), 400 for every other problem.
    #[must_use]
    pub fn status(&self) -> http::StatusCode {
        match self.inner.problem {
            Problem::ReferenceMissing { .. } => http::StatusCode::UNPROCESSABLE_ENTITY,
            _ => http::StatusCode::BAD_REQUEST,
        }
    }

    /// The refusal as problem details, with [`status`](Self::status): the problem's id and
    /// the path (`filter.$or[1].name.$where`), never a value.
    #[must_use]
    pub fn problem_details(&self) -> palisade_problem::Problem {
        palisade_problem::Problem::new("mongo/refused", "the request is refused", self.status())
            .with("problem", self.inner.problem.id())
            .with("path", self.inner.path.clone())
    }
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum::response::IntoResponse for Rejected {
    fn into_response(self) -> axum::response::Response {
        self.problem_details().into_response()
    }
}

/// `name` cut to [`NAME_CHARS`] characters, so a message stays small whatever the input.
pub(crate) fn shown(name: &str) -> String {
    match name.char_indices().nth(NAME_CHARS) {
        Some((cut, _)) => format!("{}...", name.get(..cut).unwrap_or_default()),
        None => name.to_owned(),
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = &self.inner.path;
        match &self.inner.problem {
            Problem::OperatorNotAllowed { operator } => {
                write!(f, "operator `{operator}` is not allowed at {at}")
            }
            Problem::ValueKindNotAllowed { kind } => {
                write!(f, "a {kind} value is not allowed at {at}")
            }
            Problem::FieldNameInvalid => write!(
                f,
                "invalid field name at {at}: names may not contain `$`, NUL or empty segments"
            ),
            Problem::OperandInvalid { operator, expected } => {
                write!(f, "`{operator}` at {at} needs {expected}")
            }
            Problem::DepthExceeded { limit } => {
                write!(f, "nested deeper than {limit} levels at {at}")
            }
            Problem::KeysExceeded { limit } => write!(f, "more than {limit} keys, at {at}"),
            Problem::ArrayTooLong { limit } => {
                write!(f, "array longer than {limit} elements at {at}")
            }
            Problem::StringTooLong { limit } => {
                write!(f, "string longer than {limit} bytes at {at}")
            }
            Problem::ScalarExpected => write!(
                f,
                "{at} takes a plain value (string, number, boolean, id or date), not an operator or a document"
            ),
            Problem::ObjectIdInvalid => write!(f, "{at} needs an ObjectId (24 hex digits)"),
            Problem::UuidInvalid => write!(f, "{at} needs a UUID (text or BSON binary subtype 4)"),
            Problem::DateInvalid => write!(f, "{at} needs a date (RFC 3339 or a BSON date)"),
            Problem::OwnerFieldWritten => {
                write!(
                    f,
                    "the owner field may not be set, changed or removed ({at})"
                )
            }
            Problem::AuditFieldWritten => write!(
                f,
                "audit fields are set by the server, not the client ({at})"
            ),
            Problem::StageNotAllowed { stage } => {
                write!(f, "aggregation stage `{stage}` is not allowed at {at}")
            }
            Problem::ReferenceMissing { collection, id } => write!(
                f,
                "{at} refers to `{id}` in `{collection}`, which does not exist"
            ),
            Problem::ReferenceUnchecked => write!(
                f,
                "{at} would change a reference other than by $set, $setOnInsert, $push or $addToSet"
            ),
            Problem::ShapeInvalid { expected } => write!(f, "{at} must be {expected}"),
            Problem::FieldEncrypted { problem } => {
                write!(f, "{at} is encrypted and cannot be {problem}")
            }
        }
    }
}

impl std::error::Error for Rejected {}
