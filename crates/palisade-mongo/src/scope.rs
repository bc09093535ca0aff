//! `Scope` (R-MDB-2): pins every query, update, insert and pipeline to its owner, so that no
//! client-supplied `$or` can reach another user's documents.

use bson::{Bson, Document, doc};

use crate::error::{Problem, Rejected, shown};
use crate::guard::{FilterPolicy, Guarded};
use crate::walk::{Keys, Walker};

/// Update operators a client may send; each takes a document of field paths.
const UPDATE_OPERATORS: &[&str] = &[
    "$set",
    "$unset",
    "$inc",
    "$mul",
    "$min",
    "$max",
    "$rename",
    "$push",
    "$pull",
    "$addToSet",
    "$pop",
    "$currentDate",
    "$setOnInsert",
];
/// Modifiers allowed inside `$push` and `$addToSet` values.
const PUSH_MODIFIERS: &[&str] = &["$each", "$position", "$slice", "$sort"];
/// Aggregation stages that stay within their input documents.
const STAGES: &[&str] = &[
    "$match",
    "$project",
    "$addFields",
    "$set",
    "$unset",
    "$sort",
    "$limit",
    "$skip",
    "$count",
    "$group",
    "$unwind",
    "$facet",
    "$sortByCount",
    "$bucket",
    "$bucketAuto",
    "$replaceRoot",
    "$replaceWith",
    "$sample",
    "$lookup",
];
/// Operators that run server-side JavaScript, refused anywhere in a pipeline.
const JAVASCRIPT: &[&str] = &["$function", "$accumulator", "$where"];

/// One owner: the field that holds it and its value.
///
/// ```
/// use bson::doc;
/// use palisade_mongo::{FilterPolicy, Scope};
///
/// let scope = Scope::new("user_id", 42);
/// let guarded = FilterPolicy::default().guard(&doc! {"$or": [{"public": true}, {"x": 1}]}).unwrap();
/// assert_eq!(
///     scope.filter(guarded),
///     doc! {"$and": [{"$or": [{"public": true}, {"x": 1}]}], "user_id": 42}
/// );
/// assert!(scope.update(&doc! {"$set": {"user_id": 7}}).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Scope {
    field: String,
    owner: Bson,
    /// `{field: owner}`, built once: every scoped filter takes a copy.
    owner_match: Document,
    policy: FilterPolicy,
    lookups: Vec<String>,
}

impl Scope {
    /// Documents owned by `owner` in `field`, with the default filter policy for the filters
    /// inside pipelines and `$pull`.
    pub fn new(field: &str, owner: impl Into<Bson>) -> Self {
        let owner = owner.into();
        let mut owner_match = Document::new();
        owner_match.insert(field, owner.clone());
        Self {
            field: field.to_owned(),
            owner,
            owner_match,
            policy: FilterPolicy::default(),
            lookups: Vec::new(),
        }
    }

    /// The policy for filters inside pipelines (`$match`) and `$pull` conditions.
    #[must_use]
    pub fn with_policy(mut self, policy: FilterPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Lets pipelines `$lookup` into `collection`, whose documents carry the same owner field:
    /// the lookup gets the owner `$match` first in its pipeline.
    #[must_use]
    pub fn allow_lookup(mut self, collection: &str) -> Self {
        self.lookups.push(collection.to_owned());
        self
    }

    /// The policy for the filters this scope takes.
    #[must_use]
    pub fn policy(&self) -> &FilterPolicy {
        &self.policy
    }

    /// The owner field.
    #[must_use]
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The owner.
    #[must_use]
    pub fn owner(&self) -> &Bson {
        &self.owner
    }

    fn owner_match(&self) -> Document {
        self.owner_match.clone()
    }

    /// The filter for find, count, update and delete: `{"$and": [filter], field: owner}`, or
    /// just `{field: owner}` when the filter is empty. The client's filter stays whole inside
    /// `$and`, so none of its keys (a `$or`, the owner field itself) can meet the owner
    /// condition, which stands beside it: the server matches both.
    #[must_use]
    pub fn filter(&self, guarded: Guarded) -> Document {
        let filter = guarded.into_document();
        if filter.is_empty() {
            return self.owner_match();
        }
        // Two keys in one document: five allocations in `bson`'s `Document`, where a second
        // document for the owner would cost seven.
        let mut scoped = Document::new();
        scoped.insert("$and", Bson::Array(vec![Bson::Document(filter)]));
        scoped.insert(self.field.as_str(), self.owner.clone());
        scoped
    }

    /// Whether `path` is the owner field or inside it.
    fn touches_owner(&self, path: &str) -> bool {
        path == self.field
            || path
                .strip_prefix(self.field.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
            || self
                .field
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('.'))
    }

    /// Checks a client-supplied update: operator form (`$set`, `$inc`, ...: none may touch the
    /// owner field, through a dotted path, `$rename` or `$unset` included) or a replacement
    /// document (returned with the owner set). Values are checked for `$` and dotted keys at
    /// every depth. Update pipelines are refused.
    ///
    /// # Errors
    /// [`Rejected`] naming the problem and its path (`update.$set.user_id`).
    pub fn update(&self, update: &Document) -> Result<Document, Rejected> {
        Walker::run(self.policy.limits(), "update", |walker| {
            self.checked_update(walker, update)
        })
    }

    fn checked_update(&self, walker: &mut Walker, update: &Document) -> Result<Document, Rejected> {
        let operators = update.keys().filter(|k| k.starts_with('$')).count();
        if operators == 0 {
            return self.replacement(walker, update);
        }
        if operators != update.len() {
            return Err(walker.reject(Problem::ShapeInvalid {
                expected: "either update operators or a replacement document",
            }));
        }
        walker.document(update, |walker, operator, fields| {
            if !UPDATE_OPERATORS.contains(&operator) {
                return Err(walker.reject(Problem::OperatorNotAllowed {
                    operator: shown(operator),
                }));
            }
            let Bson::Document(fields) = fields else {
                return Err(walker.reject(Problem::ShapeInvalid {
                    expected: "a document of field paths",
                }));
            };
            walker.document(fields, |walker, path, value| {
                walker.field_path(path)?;
                if self.touches_owner(path) {
                    return Err(walker.reject(Problem::OwnerFieldWritten));
                }
                match operator {
                    "$rename" => match value {
                        Bson::String(target) if !self.touches_owner(target) => {
                            walker.field_path(target)
                        }
                        Bson::String(_) => Err(walker.reject(Problem::OwnerFieldWritten)),
                        _ => Err(walker.reject(Problem::ShapeInvalid {
                            expected: "a field path",
                        })),
                    },
                    "$push" | "$addToSet" => self.push_value(walker, value),
                    "$pull" => match value {
                        // A condition on the array's elements: guarded on this walk, so its
                        // path and limits are the update's.
                        Bson::Document(condition)
                            if condition.keys().any(|k| k.starts_with('$')) =>
                        {
                            self.policy.check_condition(walker, path, value)
                        }
                        _ => walker.literal(value, Keys::Plain),
                    },
                    _ => walker.literal(value, Keys::Plain),
                }
            })
        })?;
        Ok(update.clone())
    }

    fn push_value(&self, walker: &mut Walker, value: &Bson) -> Result<(), Rejected> {
        match value {
            Bson::Document(modifiers) if modifiers.keys().any(|k| k.starts_with('$')) => walker
                .document(modifiers, |walker, modifier, operand| {
                    if PUSH_MODIFIERS.contains(&modifier) {
                        walker.literal(operand, Keys::Plain)
                    } else {
                        Err(walker.reject(Problem::OperatorNotAllowed {
                            operator: shown(modifier),
                        }))
                    }
                }),
            _ => walker.literal(value, Keys::Plain),
        }
    }

    fn replacement(&self, walker: &mut Walker, document: &Document) -> Result<Document, Rejected> {
        walker.literal_document(document)?;
        match document.get(&self.field) {
            Some(owner) if owner != &self.owner => {
                Err(walker.reject_at_key(&self.field, Problem::OwnerFieldWritten))
            }
            _ => {
                let mut owned = document.clone();
                owned.insert(self.field.clone(), self.owner.clone());
                Ok(owned)
            }
        }
    }

    /// Checks a client-supplied document to insert (`$` and dotted keys refused at every
    /// depth, limits) and returns it with the owner set; a different owner is refused.
    ///
    /// # Errors
    /// [`Rejected`] naming the problem and its path (`document.profile.$x`).
    pub fn insert(&self, document: &Document) -> Result<Document, Rejected> {
        Walker::run(self.policy.limits(), "document", |walker| {
            self.replacement(walker, document)
        })
    }

    /// Checks a client-supplied aggregation pipeline and returns it behind a leading
    /// `{"$match": {field: owner}}`. Stages must be allow-listed (`$out`, `$merge`,
    /// `$unionWith`, `$graphLookup` and the server-state stages are refused); `$match` filters
    /// pass the guard; `$lookup` must target a collection allowed with
    /// [`allow_lookup`](Scope::allow_lookup) and gets the owner match in its own pipeline;
    /// `$function`, `$accumulator` and `$where` are refused anywhere.
    ///
    /// # Errors
    /// [`Rejected`] naming the problem and its path (`pipeline[2].$out`).
    pub fn pipeline(&self, stages: &[Document]) -> Result<Vec<Document>, Rejected> {
        let mut scoped = Vec::with_capacity(stages.len() + 1);
        scoped.push(doc! {"$match": self.owner_match()});
        for (index, stage) in stages.iter().enumerate() {
            scoped.push(self.stage(stage, index)?);
        }
        Ok(scoped)
    }

    fn stage(&self, stage: &Document, index: usize) -> Result<Document, Rejected> {
        Walker::run(self.policy.limits(), "pipeline", |walker| {
            walker.at_index(index, |walker| {
                let mut entries = stage.iter();
                let (Some((name, body)), None) = (entries.next(), entries.next()) else {
                    return Err(walker.reject(Problem::ShapeInvalid {
                        expected: "a document with exactly one stage",
                    }));
                };
                walker.at_key(name, |walker| {
                    if !STAGES.contains(&name.as_str()) {
                        return Err(walker.reject(Problem::StageNotAllowed { stage: shown(name) }));
                    }
                    no_javascript(walker, body)?;
                    match (name.as_str(), body) {
                        ("$match", Bson::Document(filter)) => {
                            let guarded = self
                                .policy
                                .guard(filter)
                                .map_err(|inner| walker.reject_within(&inner))?;
                            Ok(doc! {"$match": guarded.into_document()})
                        }
                        ("$lookup", Bson::Document(lookup)) => self.lookup(walker, lookup),
                        ("$facet", Bson::Document(facets)) => {
                            let mut scoped = Document::new();
                            for (facet, inner) in facets {
                                let stages = self.sub_pipeline(walker, facet, inner)?;
                                scoped.insert(facet.clone(), stages);
                            }
                            Ok(doc! {"$facet": scoped})
                        }
                        _ => Ok(stage.clone()),
                    }
                })
            })
        })
    }

    fn lookup(&self, walker: &Walker, lookup: &Document) -> Result<Document, Rejected> {
        let from = lookup.get_str("from").unwrap_or_default();
        if !self.lookups.iter().any(|allowed| allowed == from) {
            return Err(walker.reject(Problem::StageNotAllowed {
                stage: "$lookup".to_owned(),
            }));
        }
        let mut scoped = lookup.clone();
        let mut pipeline = vec![Bson::Document(doc! {"$match": self.owner_match()})];
        if let Some(existing) = lookup.get("pipeline") {
            pipeline.extend(self.sub_pipeline(walker, "pipeline", existing)?);
        }
        scoped.insert("pipeline", pipeline);
        Ok(doc! {"$lookup": scoped})
    }
}

impl Scope {
    /// The stages of a nested pipeline (a facet, a lookup's `pipeline`) named `name`, each
    /// checked as a stage.
    fn sub_pipeline(
        &self,
        walker: &Walker,
        name: &str,
        stages: &Bson,
    ) -> Result<Vec<Bson>, Rejected> {
        let Bson::Array(stages) = stages else {
            return Err(walker.reject_at_key(
                name,
                Problem::ShapeInvalid {
                    expected: "an array of stages",
                },
            ));
        };
        stages
            .iter()
            .enumerate()
            .map(|(i, stage)| match stage {
                Bson::Document(stage) => self
                    .stage(stage, i)
                    .map(Bson::Document)
                    .map_err(|inner| inner_stage(walker, name, &inner)),
                _ => Err(walker.reject_at_key(
                    &format!("{name}[{i}]"),
                    Problem::ShapeInvalid {
                        expected: "a stage document",
                    },
                )),
            })
            .collect()
    }
}

/// A refusal inside a nested pipeline (a facet, a lookup's `pipeline`), placed under `name`:
/// `pipeline[0].$facet.summary[1].$out`.
fn inner_stage(walker: &Walker, name: &str, inner: &Rejected) -> Rejected {
    let below = inner.path().strip_prefix("pipeline").unwrap_or_default();
    walker.reject_at_key(&format!("{name}{below}"), inner.problem().clone())
}

/// Refuses `$function`, `$accumulator` and `$where` at any depth of a stage.
fn no_javascript(walker: &mut Walker, value: &Bson) -> Result<(), Rejected> {
    match value {
        Bson::Document(document) => walker.document(document, |walker, key, inner| {
            if JAVASCRIPT.contains(&key) {
                Err(walker.reject(Problem::OperatorNotAllowed {
                    operator: key.to_owned(),
                }))
            } else {
                no_javascript(walker, inner)
            }
        }),
        Bson::Array(items) => walker.each(items, no_javascript),
        Bson::JavaScriptCode(_) | Bson::JavaScriptCodeWithScope(_) => {
            Err(walker.reject(Problem::ValueKindNotAllowed { kind: "javascript" }))
        }
        _ => Ok(()),
    }
}
