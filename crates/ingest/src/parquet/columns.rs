//! The column reader: a Parquet file read column by column into the gateway
//! reader's staging record ([`RawLine`]), with no JSON in between.
//!
//! A [`ColumnPlan`] is made once per file from its Arrow schema: a list of
//! (column path, [`Target`]) that says which leaf columns to decode and what
//! each value is for. Struct fields are dotted paths (`usage.prompt_tokens`);
//! a list, map or struct read whole (tags, an `error` object, prompts) is one
//! entry. The plan comes from the gateway reader's key table
//! ([`gateway::field`]), nested the way the gateway reader nests objects
//! (`usage`/`usageMetadata` and their `*_details`; `request`, `response`,
//! `body` and `metadata` scopes, where other `metadata` keys are tags), and,
//! for a `[mapping]`, from its dotted paths resolved against the schema.
//! Entries are in the order the gateway reader would meet the keys of the
//! row's JSON form (keys sorted at every level, as `serde_json` objects are),
//! so "the first key wins" picks the same value.
//!
//! Each value goes through the same conversions as in the JSON form
//! ([`crate::parquet::Values`]) and the same field rules
//! ([`gateway::set_field`], [`RawLine::into_record`]), so a row gives the
//! record its JSON line would. A declarative format spec can later produce
//! the same list of (path, target).
//!
//! What a plan cannot follow falls back to JSON lines
//! ([`crate::parquet::read_parquet`]): any format but the gateway's (and a
//! mapping on top of it), a `usage`, `metadata` or `error` column that is a
//! map (its keys are only known per row), a mapped path through a list or
//! map, struct fields with the same name twice. [`ColumnPlan::new`] says why.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch, StringArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field as ArrowField, Fields, Schema, TimeUnit};

use tokenaudit_core::CallRecord;

use crate::formats::gateway::{self, Field, KeyAt, Part, Scope, UsageKey};
use crate::formats::mapping::Mapping;
use crate::formats::mapping_scan::{self, Slot, MAX_SEGMENTS};
use crate::parquet::texts::Texts;
use crate::parquet::{column_at, instant, is_binary, leaf_count, Cell, Col, Values};
use crate::record::fields::{non_empty, LMoney, Lenient, Scalar, LU64};
use crate::record::staging::{put_ranked, Ranked, RawLine};
use crate::record::tags::list_tag;
use crate::rejects::Reject;

/// What a column's values are for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Target {
    /// A value under the key `key`, which the gateway reader reads into
    /// `field` (see [`gateway::set_field`]); `metadata`: inside a
    /// `metadata` object, where unknown keys are tags.
    Key {
        field: Field,
        key: String,
        at: KeyAt,
    },
    /// A token count inside a usage object (or its `*_details`).
    UsageCount(UsageKey),
    /// A token count inside the AI SDK's `totalUsage` (or its details):
    /// the whole usage of a multi-step call (`RawLine::total_usage`).
    TotalCount(UsageKey),
    /// A usage object's `cost` (OpenRouter's, LiteLLM's) or label
    /// (Anthropic's `service_tier`, `speed`, `inference_geo`, Vertex's
    /// `trafficType`).
    UsageLabel(UsageKey),
    /// A `*_details` or `cache_creation` value inside a usage object:
    /// `input_tokens_details` marks the Responses convention; a value that
    /// is not an object makes the usage a wrong type.
    UsageDetail { responses: bool, object: bool },
    /// An `error` object: its kind is the first of its `code` and `type`
    /// (the plan's columns listed), else `error`.
    ErrorObject(Vec<(u8, usize)>, u16),
    /// `tags`: a map, a struct, a list of labels, or JSON text.
    Tags,
    /// `messages`, `prompt`, `system` …: fingerprinted from the value's JSON.
    Text(Field),
    /// A list under `choices` (Gemini's `candidates`): its first element
    /// read as the JSON line's is, at this depth (the finish reason, and
    /// any field it holds).
    Choices(u8),
}

/// Where a mapped path's value can be: a column, or a path inside the JSON
/// text a string column holds (a warehouse's JSON or VARIANT column
/// exported to Parquet: BigQuery's `full_response`, Snowflake's `USAGE`).
#[derive(Clone, Debug)]
struct Candidate {
    column: usize,
    /// The keys inside the column's JSON text (none: the column's value).
    within: Vec<String>,
}

/// A mapped field: its slot and the columns its paths can resolve to, in
/// the order `mapping::lookup` tries them.
#[derive(Clone, Debug)]
struct MappedPlan {
    fields: Vec<(Slot, Vec<Candidate>)>,
    timestamp: Option<Vec<Candidate>>,
    /// Top-level `timestamp`, `ts`, `time`: given the origin when mapped
    /// fields leave the gateway's timestamp.
    origin_keys: Vec<Candidate>,
    tags: Vec<(String, Vec<Candidate>)>,
    /// input, cached read, cache write, 1-hour cache write, output,
    /// reasoning (see `Mapping::set_tokens`).
    tokens: Option<[Vec<Candidate>; crate::formats::mapping::TOKEN_SLOTS]>,
    /// Where the usage object can be, in `mapping::find`'s order (see
    /// `Mapping::usage_paths`).
    usage: Vec<UsageAt>,
}

/// A mapped usage object's place.
#[derive(Clone, Debug)]
enum UsageAt {
    /// A struct: its column (for its validity) and its counts' entries, as
    /// a `usage` column's.
    Struct(usize, Vec<(usize, Target)>),
    /// JSON text, or a path inside it.
    Text(Candidate),
}

/// The columns a file is read from and what each value is for.
#[derive(Clone, Debug)]
pub(crate) struct ColumnPlan {
    /// Column paths through structs, top-level name first.
    columns: Vec<Vec<String>>,
    /// In the gateway reader's key order: (index in `columns`, target).
    entries: Vec<(usize, Target)>,
    /// A `[mapping]` on top, and its fields' columns.
    mapped: Option<(Arc<Mapping>, MappedPlan)>,
    /// The Parquet leaf columns to decode, sorted.
    leaves: Vec<usize>,
}

/// A field of the schema with the index of its first Parquet leaf.
struct Node<'s> {
    field: &'s ArrowField,
    first_leaf: usize,
}

/// The fields of a struct (or of the schema), sorted by name as the keys of
/// a JSON object are; a name used twice cannot be planned.
fn sorted(fields: &Fields, first_leaf: usize) -> Result<Vec<Node<'_>>, String> {
    let mut leaf = first_leaf;
    let mut out: Vec<Node<'_>> = fields
        .iter()
        .map(|f| {
            let node = Node {
                field: f,
                first_leaf: leaf,
            };
            leaf += leaf_count(f.data_type());
            node
        })
        .collect();
    out.sort_by(|a, b| a.field.name().cmp(b.field.name()));
    if out
        .windows(2)
        .any(|w| w[0].field.name() == w[1].field.name())
    {
        return Err("a struct has two fields of the same name".into());
    }
    Ok(out)
}

fn has_map(dtype: &DataType) -> bool {
    match dtype {
        DataType::Map(_, _) => true,
        DataType::Struct(fields) => fields.iter().any(|f| has_map(f.data_type())),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            has_map(f.data_type())
        }
        _ => false,
    }
}

struct Builder {
    plan: ColumnPlan,
}

impl Builder {
    /// Adds a column whose values are read whole (`all`), or only for
    /// whether they are there (their first leaf; all leaves of a map).
    fn column(&mut self, path: Vec<String>, node: &Node<'_>, all: bool) -> Result<usize, String> {
        let n = leaf_count(node.field.data_type());
        if n == 0 {
            return Err(format!("'{}' has no columns to read", path.join(".")));
        }
        let take = if all || has_map(node.field.data_type()) {
            n
        } else {
            1
        };
        self.plan
            .leaves
            .extend(node.first_leaf..node.first_leaf + take);
        if let Some(i) = self.plan.columns.iter().position(|c| *c == path) {
            return Ok(i);
        }
        self.plan.columns.push(path);
        Ok(self.plan.columns.len() - 1)
    }

    fn entry(
        &mut self,
        path: Vec<String>,
        node: &Node<'_>,
        all: bool,
        target: Target,
    ) -> Result<(), String> {
        let i = self.column(path, node, all)?;
        self.plan.entries.push((i, target));
        Ok(())
    }

    /// The keys of an object the gateway reader reads for fields (see
    /// `gateway::scan_map`).
    fn object(
        &mut self,
        fields: &Fields,
        first_leaf: usize,
        prefix: &[String],
        scope: Scope,
        depth: u8,
    ) -> Result<(), String> {
        for node in sorted(fields, first_leaf)? {
            let dtype = node.field.data_type();
            if is_binary(dtype) || dtype == &DataType::Null {
                continue; // never a value
            }
            let name = node.field.name();
            let path = [prefix, std::slice::from_ref(name)].concat();
            let metadata = scope == Scope::Metadata;
            let key = |field| Target::Key {
                field,
                key: name.clone(),
                at: KeyAt {
                    metadata,
                    depth,
                    rank: gateway::rank(field, name.as_bytes(), scope, depth),
                },
            };
            match (gateway::field(name).in_scope(scope), dtype) {
                (Field::Usage, DataType::Struct(children)) => {
                    self.usage(children, node.first_leaf, &path, Part::Any)?;
                }
                // LangChain's `token_usage` struct is left unread: a row's
                // own `usage` wins over it in JSON, which the columns'
                // slots (first count wins) cannot do (hunt54).
                (Field::TokenUsage, _) => {}
                (Field::TotalUsage, DataType::Struct(children)) => {
                    self.total_usage(children, node.first_leaf, &path)?;
                }
                // A usage's detail struct spread into the row (hunt57).
                (Field::UsageDetail, DataType::Struct(children)) => {
                    let k = gateway::usage_key(name);
                    self.entry(
                        path.clone(),
                        &node,
                        false,
                        Target::UsageDetail {
                            responses: k == UsageKey::ResponsesDetail,
                            object: true,
                        },
                    )?;
                    let inner = k.detail(Part::Any).unwrap_or(Part::Any);
                    self.usage(children, node.first_leaf, &path, inner)?;
                }
                (
                    Field::Usage | Field::Metadata | Field::Nested | Field::Error,
                    DataType::Map(_, _),
                ) => {
                    return Err(format!("'{}' is a map", path.join(".")));
                }
                // A `metadata` column of JSON text (DuckDB's JSON type):
                // read as the object (`gateway::set_field`).
                (Field::Metadata, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
                    if !metadata =>
                {
                    self.entry(path, &node, false, key(Field::Metadata))?
                }
                // A logged `request` or `response` (or `output`) column of
                // JSON text: likewise.
                (
                    f @ (Field::Nested | Field::Output),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View,
                ) if scope == Scope::Top => self.entry(path, &node, false, key(f))?,
                (f @ (Field::Metadata | Field::Nested), _) if depth < 3 => {
                    if let DataType::Struct(children) = dtype {
                        let scope = if f == Field::Metadata {
                            Scope::Metadata
                        } else {
                            gateway::nested_scope(name.as_bytes(), scope)
                        };
                        self.object(children, node.first_leaf, &path, scope, depth + 1)?;
                    }
                    // Any other value is read and ignored.
                }
                (Field::Error, DataType::Struct(children)) => {
                    // The kind keys' columns, best ranked first (the
                    // first with a value names the kind, as in JSON).
                    let mut ranked = Vec::new();
                    for child in sorted(children, node.first_leaf)? {
                        let k = child.field.name();
                        let key = Lenient::Value(Cow::Borrowed(k.as_str()));
                        if let Some(r) = gateway::error_kind_key_rank(&key) {
                            if !is_binary(child.field.data_type()) {
                                let child_path = [path.clone(), vec![k.clone()]].concat();
                                ranked.push((r, self.column(child_path, &child, false)?));
                            }
                        }
                    }
                    ranked.sort_unstable();
                    let parts = ranked;
                    let whole = self.column(path, &node, false)?;
                    let rank = gateway::rank(Field::Error, name.as_bytes(), scope, depth);
                    self.plan
                        .entries
                        .push((whole, Target::ErrorObject(parts, rank)));
                }
                (Field::Tags, _) => self.entry(path, &node, true, Target::Tags)?,
                // OpenAI's `choices` (a list of structs as DuckDB writes a
                // completion object): read as JSON reads it (hunt60).
                (Field::Choices, DataType::List(_) | DataType::LargeList(_))
                    if depth < 3 && !metadata =>
                {
                    self.entry(path, &node, true, Target::Choices(depth + 1))?
                }
                // … or a column of its JSON text (DuckDB's JSON type).
                (Field::Choices, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
                    if depth < 3 && !metadata =>
                {
                    self.entry(path, &node, false, key(Field::Choices))?
                }
                (f @ (Field::Messages | Field::Prompt | Field::System), _) => {
                    self.entry(path, &node, true, Target::Text(f))?;
                }
                (
                    Field::Metadata | Field::Nested | Field::Choices | Field::Output | Field::Other,
                    _,
                ) => {
                    // Unknown keys: tags inside `metadata` (a nested value
                    // is no tag), else skipped.
                    if metadata && !dtype.is_nested() {
                        self.entry(path, &node, false, key(Field::Other))?;
                    }
                }
                (f, _) => self.entry(path, &node, false, key(f))?,
            }
        }
        Ok(())
    }

    /// The AI SDK's `totalUsage`: its counts, and those of its detail
    /// structs (`inputTokenDetails`, `outputTokenDetails`).
    fn total_usage(
        &mut self,
        fields: &Fields,
        first_leaf: usize,
        prefix: &[String],
    ) -> Result<(), String> {
        for node in sorted(fields, first_leaf)? {
            let dtype = node.field.data_type();
            let path = [prefix, std::slice::from_ref(node.field.name())].concat();
            let k = gateway::usage_key(node.field.name());
            match dtype {
                DataType::Struct(children) if k.detail(Part::Any).is_some() => {
                    self.total_usage(children, node.first_leaf, &path)?
                }
                // Counts of any scalar type, as the usage's own are read
                // (hunt144's bug6: a warehouse's DECIMAL or text counts
                // dropped, the call priced from its last step, -67%).
                DataType::Struct(_)
                | DataType::List(_)
                | DataType::LargeList(_)
                | DataType::Map(..) => {}
                d if !is_binary(d) && d != &DataType::Null => {
                    self.entry(path, &node, false, Target::TotalCount(k))?
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A usage object's counts and details (see `gateway::scan_usage`);
    /// `part`: which tokens the detail object counts (its `audio_tokens`).
    fn usage(
        &mut self,
        fields: &Fields,
        first_leaf: usize,
        prefix: &[String],
        part: Part,
    ) -> Result<(), String> {
        for node in sorted(fields, first_leaf)? {
            let dtype = node.field.data_type();
            if is_binary(dtype) || dtype == &DataType::Null {
                continue;
            }
            let path = [prefix, std::slice::from_ref(node.field.name())].concat();
            let k = gateway::usage_key(node.field.name()).within(part);
            // LangChain's `cache_creation` count (Anthropic's is an
            // object of the writes by TTL).
            if k == UsageKey::CacheCreationOrDetail && (dtype.is_integer() || dtype.is_floating()) {
                self.entry(
                    path,
                    &node,
                    false,
                    Target::UsageCount(UsageKey::CacheCreation),
                )?;
                continue;
            }
            if let Some(inner) = k.detail(part) {
                let responses = k == UsageKey::ResponsesDetail;
                match dtype {
                    DataType::Map(_, _) => return Err(format!("'{}' is a map", path.join("."))),
                    DataType::Struct(children) => {
                        self.entry(
                            path.clone(),
                            &node,
                            false,
                            Target::UsageDetail {
                                responses,
                                object: true,
                            },
                        )?;
                        self.usage(children, node.first_leaf, &path, inner)?;
                    }
                    _ => self.entry(
                        path,
                        &node,
                        false,
                        Target::UsageDetail {
                            responses,
                            object: false,
                        },
                    )?,
                }
                continue;
            }
            match k {
                k if matches!(k, UsageKey::Cost | UsageKey::UpstreamCost | UsageKey::Byok)
                    || k.is_label() =>
                {
                    self.entry(path, &node, false, Target::UsageLabel(k))?
                }
                // Gemini's modality lists (lists of objects) are read from
                // JSON only.
                UsageKey::Other
                | UsageKey::PromptModalities
                | UsageKey::CacheModalities
                | UsageKey::CandidateModalities => {}
                k => self.entry(path, &node, false, Target::UsageCount(k))?,
            }
        }
        Ok(())
    }

    /// The columns a mapped path can resolve to, in `mapping::lookup`'s
    /// order: every grouping of its segments into keys that names a column.
    fn candidates(
        &mut self,
        schema: &Schema,
        paths: &crate::formats::mapping::Paths,
    ) -> Result<Vec<Candidate>, String> {
        let mut out = Vec::new();
        for path in paths.iter() {
            let segs: Vec<&str> = path.split('.').collect();
            if segs.len() > MAX_SEGMENTS {
                return Err(format!("mapped path '{path}' is too long"));
            }
            for keys in mapping_scan::groupings(&segs) {
                if let Some(i) = self.resolve(schema, &keys)? {
                    out.push(i);
                }
            }
        }
        Ok(out)
    }

    fn resolve(&mut self, schema: &Schema, keys: &[String]) -> Result<Option<Candidate>, String> {
        Ok(match walk(schema, keys)? {
            Some(Place::End(node)) if !is_binary(node.field.data_type()) => Some(Candidate {
                column: self.column(keys.to_vec(), &node, false)?,
                within: Vec::new(),
            }),
            Some(Place::Text(depth, node)) => Some(self.text(keys, depth, &node)?),
            _ => None,
        })
    }

    /// A string column on a mapped path at `depth`: the rest of the path
    /// is inside its JSON text.
    fn text(
        &mut self,
        keys: &[String],
        depth: usize,
        node: &Node<'_>,
    ) -> Result<Candidate, String> {
        Ok(Candidate {
            column: self.column(keys[..=depth].to_vec(), node, false)?,
            within: keys[depth + 1..].to_vec(),
        })
    }

    fn mapped(&mut self, schema: &Schema, m: &Mapping) -> Result<MappedPlan, String> {
        let c = m.config();
        if !c.only.is_empty() {
            return Err("a [mapping.only] row filter is read from the rows as JSON".into());
        }
        // The prompt's fingerprints are made from the messages' JSON, as a
        // line's are (hunt167: a mapped `messages` path was never read from
        // Parquet, and the prompt rules had no input, unsaid).
        if c.messages.is_some() || c.prompt.is_some() || c.system.is_some() {
            return Err(
                "a mapped messages, prompt or system path is read from the rows as JSON".into(),
            );
        }
        let mut fields = Vec::new();
        for (paths, slot, ..) in mapping_scan::table(c) {
            if let Some(paths) = paths {
                fields.push((slot, self.candidates(schema, paths)?));
            }
        }
        let timestamp = match &c.timestamp {
            Some(p) => Some(self.candidates(schema, p)?),
            None => None,
        };
        let mut origin_keys = Vec::new();
        if m.origin().is_some() {
            for k in ["timestamp", "ts", "time"] {
                if let Some(i) = self.resolve(schema, &[k.to_string()])? {
                    origin_keys.push(i);
                }
            }
        }
        let mut tags = Vec::new();
        for (key, paths) in &c.tags {
            tags.push((key.clone(), self.candidates(schema, paths)?));
        }
        let token_paths = c.token_paths();
        let tokens = if token_paths.iter().any(|p| p.is_some()) {
            let mut out: [Vec<Candidate>; crate::formats::mapping::TOKEN_SLOTS] =
                Default::default();
            for (slot, paths) in out.iter_mut().zip(token_paths) {
                if let Some(p) = paths {
                    *slot = self.candidates(schema, p)?;
                }
            }
            Some(out)
        } else {
            None
        };
        let mut usage = Vec::new();
        for path in m.usage_paths().into_iter().flat_map(|p| p.iter()) {
            let segs: Vec<&str> = path.split('.').collect();
            if segs.len() > MAX_SEGMENTS {
                return Err(format!("mapped path '{path}' is too long"));
            }
            for keys in mapping_scan::groupings(&segs) {
                if let Some(found) = self.usage_object(schema, &keys)? {
                    usage.push(found);
                }
            }
        }
        Ok(MappedPlan {
            fields,
            timestamp,
            origin_keys,
            tags,
            tokens,
            usage,
        })
    }

    /// A mapped usage object at `keys`: a struct's column and the entries
    /// of its counts (kept apart from the plan's own), or JSON text (on the
    /// way, or there); none when the schema has neither there.
    fn usage_object(
        &mut self,
        schema: &Schema,
        keys: &[String],
    ) -> Result<Option<UsageAt>, String> {
        Ok(match walk(schema, keys)? {
            Some(Place::End(node)) => match node.field.data_type() {
                DataType::Struct(children) => {
                    let column = self.column(keys.to_vec(), &node, false)?;
                    let own = std::mem::take(&mut self.plan.entries);
                    let read = self.usage(children, node.first_leaf, keys, Part::Any);
                    let entries = std::mem::replace(&mut self.plan.entries, own);
                    read?;
                    Some(UsageAt::Struct(column, entries))
                }
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    Some(UsageAt::Text(self.text(keys, keys.len() - 1, &node)?))
                }
                // Its keys known only per row: the rows are read as JSON.
                DataType::Map(_, _) => {
                    return Err(format!(
                        "the mapped usage object '{}' is a map",
                        keys.join(".")
                    ))
                }
                _ => None,
            },
            Some(Place::Text(depth, node)) => Some(UsageAt::Text(self.text(keys, depth, &node)?)),
            None => None,
        })
    }
}

/// Where a mapped path lands in a schema: the field it names, or a string
/// column on the way (at that depth), the rest of the path inside its JSON.
enum Place<'s> {
    End(Node<'s>),
    Text(usize, Node<'s>),
}

/// Follows `keys` through struct fields; `None` when a key is not there or
/// a scalar is on the way; a list or map on the way is an error (the rows
/// are read as JSON).
fn walk<'s>(schema: &'s Schema, keys: &[String]) -> Result<Option<Place<'s>>, String> {
    let mut fields = schema.fields();
    let mut first_leaf = 0;
    for (depth, key) in keys.iter().enumerate() {
        let Some(node) = sorted(fields, first_leaf)?
            .into_iter()
            .find(|n| n.field.name() == key)
        else {
            return Ok(None);
        };
        if depth + 1 == keys.len() {
            return Ok(Some(Place::End(node)));
        }
        match node.field.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                return Ok(Some(Place::Text(depth, node)))
            }
            DataType::Struct(children) => {
                fields = children;
                first_leaf = node.first_leaf;
            }
            DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(_, _)
            | DataType::Map(_, _) => {
                return Err(format!("mapped path goes through the list or map '{key}'"))
            }
            _ => return Ok(None),
        }
    }
    Ok(None)
}

impl ColumnPlan {
    /// The plan for a gateway-shaped file (with `mapping` on top, when
    /// given), or why the file has to be read as JSON lines instead.
    pub(crate) fn new(
        schema: &Schema,
        mapping: Option<Arc<Mapping>>,
    ) -> Result<ColumnPlan, String> {
        // Names flattened with dots (`usage.prompt_tokens`, as pandas'
        // `json_normalize` writes them) are nested again by the rows' route.
        // (A mapping that names such a column names it as it is; a mapping
        // of other fields leaves them to be nested, hunt146's bug6.)
        let flattened = schema.fields().iter().find(|f| {
            f.name().contains('.') && !mapping.as_ref().is_some_and(|m| m.names(f.name()))
        });
        if let Some(f) = flattened {
            return Err(format!("column '{}' is a flattened name", f.name()));
        }
        let mut b = Builder {
            plan: ColumnPlan {
                columns: Vec::new(),
                entries: Vec::new(),
                mapped: None,
                leaves: Vec::new(),
            },
        };
        b.object(schema.fields(), 0, &[], Scope::Top, 0)?;
        if let Some(m) = mapping {
            let fields = b.mapped(schema, &m)?;
            b.plan.mapped = Some((m, fields));
        }
        b.plan.leaves.sort_unstable();
        b.plan.leaves.dedup();
        Ok(b.plan)
    }

    /// The Parquet leaf columns to decode.
    pub(crate) fn leaves(&self) -> &[usize] {
        &self.leaves
    }

    /// The (column path, target) pairs, in the order they are applied.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> impl Iterator<Item = (String, &Target)> {
        self.entries
            .iter()
            .map(|(i, t)| (self.columns[*i].join("."), t))
    }

    /// Reads each row of a decoded batch into a record (or a reject), and
    /// hands it to `emit` with the row's index in the batch.
    pub(crate) fn read_batch(
        &self,
        batch: &RecordBatch,
        mut emit: impl for<'r> FnMut(usize, Result<CallRecord<'r>, Reject>),
    ) {
        let values: Vec<Values<'_>> = self
            .columns
            .iter()
            .map(|path| match column_at(batch, path) {
                Some((array, parents)) => Values::new(array.as_ref(), parents.as_ref())
                    .unwrap_or_else(|_| Values::absent()),
                None => Values::absent(),
            })
            .collect();
        let ops: Vec<Op<'_>> = self
            .entries
            .iter()
            .map(|(i, target)| Op::bind(batch, &self.columns[*i], &values[*i], target))
            .collect();
        let usage_ops: Vec<Result<(usize, Vec<Op<'_>>), &Candidate>> = self
            .mapped
            .iter()
            .flat_map(|(_, p)| &p.usage)
            .map(|at| match at {
                UsageAt::Struct(column, entries) => Ok((
                    *column,
                    entries
                        .iter()
                        .map(|(i, target)| Op::bind(batch, &self.columns[*i], &values[*i], target))
                        .collect(),
                )),
                UsageAt::Text(c) => Err(c),
            })
            .collect();
        for row in 0..batch.num_rows() {
            let mut raw = RawLine {
                tags: crate::record::fields::fresh_tags(),
                ..RawLine::default()
            };
            for op in &ops {
                op.apply(row, &values, &mut raw);
            }
            if let (false, Some((m, _))) = (usage_ops.is_empty(), &self.mapped) {
                mapped_usage(&usage_ops, &values, row, &mut raw, m.usage_named());
            }
            if let Some((m, fields)) = &self.mapped {
                apply_mapping(m, fields, &values, row, &mut raw);
            }
            if let Some(total) = raw.total_usage.take() {
                raw.usage.take_whole(*total);
            }
            emit(row, raw.into_record());
        }
    }
}

/// One plan entry bound to a batch: its column downcast once, and what its
/// values are for. The pairs a gateway-shaped file is made of (a string
/// column into a field, integers into a count, a timestamp column into the
/// timestamp) read their values straight from the typed array, with no
/// [`Cell`] in between; every other pair goes through [`Values::get`]. Both
/// then meet the same field rules ([`gateway::set_field`],
/// [`gateway::set_usage`]), so a value means the same either way.
enum Op<'a> {
    /// A string column under a key the gateway reader reads as a scalar.
    Str {
        strings: &'a StringArray,
        nulls: Option<&'a NullBuffer>,
        field: Field,
        key: &'a str,
        at: KeyAt,
    },
    /// An `Int64` column: under a key, or a usage count.
    Int {
        ints: &'a [i64],
        nulls: Option<&'a NullBuffer>,
        to: IntTo<'a>,
    },
    /// A usage `*_details` value: whether it is there (see
    /// [`Target::UsageDetail`]).
    Detail {
        nulls: Option<&'a NullBuffer>,
        responses: bool,
        object: bool,
    },
    /// A timestamp column under a timestamp key.
    Instant {
        ticks: &'a [i64],
        unit: TimeUnit,
        nulls: Option<&'a NullBuffer>,
        rank: u16,
    },
    /// Prompt text: each row's JSON text, written once per batch.
    Text(Field, Option<Texts>),
    /// A `choices` list's JSON text, and the depth it is read at.
    Choices(Option<Texts>, u8),
    Tags(TagsColumn<'a>),
    /// Any other pair, value by value.
    Cells(&'a Values<'a>, &'a Target),
}

/// Where an integer column's values go.
#[derive(Clone, Copy)]
enum IntTo<'a> {
    Key {
        field: Field,
        key: &'a str,
        at: KeyAt,
    },
    Usage(UsageKey),
}

#[inline]
fn valid(nulls: Option<&NullBuffer>, row: usize) -> bool {
    nulls.is_none_or(|n| n.is_valid(row))
}

impl<'a> Op<'a> {
    fn bind(
        batch: &'a RecordBatch,
        path: &[String],
        v: &'a Values<'a>,
        target: &'a Target,
    ) -> Op<'a> {
        let nulls = v.nulls.as_ref();
        match (&v.col, target) {
            (_, Target::Text(f)) => {
                let texts = column_at(batch, path)
                    .map(|(array, parents)| Texts::new(array.as_ref(), parents.as_ref()));
                Op::Text(*f, texts)
            }
            (_, Target::Choices(depth)) => {
                let texts = column_at(batch, path)
                    .map(|(array, parents)| Texts::new(array.as_ref(), parents.as_ref()));
                Op::Choices(texts, *depth)
            }
            (_, Target::Tags) => Op::Tags(TagsColumn::new(batch, path, v)),
            (col, Target::UsageDetail { responses, object }) if !matches!(col, Col::Absent) => {
                Op::Detail {
                    nulls,
                    responses: *responses,
                    object: *object,
                }
            }
            (Col::Utf8(strings), Target::Key { field, key, at }) => Op::Str {
                strings,
                nulls,
                field: *field,
                key,
                at: *at,
            },
            (
                Col::Timestamp(ticks, unit),
                Target::Key {
                    field: Field::Timestamp,
                    at,
                    ..
                },
            ) => Op::Instant {
                ticks,
                unit: *unit,
                nulls,
                rank: at.rank,
            },
            (Col::I64(ints), Target::Key { field, key, at }) => Op::Int {
                ints,
                nulls,
                to: IntTo::Key {
                    field: *field,
                    key,
                    at: *at,
                },
            },
            (Col::I64(ints), Target::UsageCount(k)) => Op::Int {
                ints,
                nulls,
                to: IntTo::Usage(*k),
            },
            (_, target) => Op::Cells(v, target),
        }
    }

    #[inline]
    fn apply(&'a self, row: usize, values: &[Values<'a>], raw: &mut RawLine<'a>) {
        match self {
            Op::Str {
                strings,
                nulls,
                field,
                key,
                at,
            } => {
                if valid(*nulls, row) {
                    let s = Scalar::Str(Cow::Borrowed(strings.value(row)));
                    gateway::set_field(raw, *field, key, s, *at);
                }
            }
            Op::Int { ints, nulls, to } => {
                if valid(*nulls, row) {
                    // As `Values::get`: a non-negative integer is unsigned.
                    let n = ints[row];
                    let s = if n >= 0 {
                        Scalar::U64(n as u64)
                    } else {
                        Scalar::I64(n)
                    };
                    match *to {
                        IntTo::Key { field, key, at } => gateway::set_field(raw, field, key, s, at),
                        IntTo::Usage(k) => gateway::set_usage(&mut raw.usage, k, s.count()),
                    }
                }
            }
            Op::Detail {
                nulls,
                responses,
                object,
            } => {
                if valid(*nulls, row) {
                    raw.usage.responses_style |= *responses;
                    if !*object {
                        raw.usage.prompt_tokens = Lenient::WrongType;
                    }
                }
            }
            Op::Instant {
                ticks,
                unit,
                nulls,
                rank,
            } => {
                if valid(*nulls, row) {
                    // Out of chrono's range: no value, as in the JSON form.
                    if let Some(t) = instant(ticks[row], *unit) {
                        put_instant(raw, t, *rank);
                    }
                }
            }
            Op::Text(f, texts) => {
                if let Some(json) = texts.as_ref().and_then(|t| t.get(row)) {
                    gateway::set_text(raw, *f, json);
                }
            }
            Op::Choices(texts, depth) => {
                if let Some(json) = texts.as_ref().and_then(|t| t.get(row)) {
                    gateway::choices_from_text(raw, json, *depth);
                }
            }
            Op::Tags(t) => t.push(row, &mut raw.tags),
            Op::Cells(v, target) => cells(v, target, row, values, raw),
        }
    }
}

/// A timestamp column's time, from a key of `rank` (`gateway::rank`).
fn put_instant(raw: &mut RawLine<'_>, t: chrono::DateTime<chrono::Utc>, rank: u16) {
    // As the JSON form's time: an unset one (Go's, .NET's) gives way
    // (hunt60).
    raw.set_time_ranked(Lenient::Value(t), rank);
}

/// An entry's value in one row, through [`Values::get`].
fn cells<'a>(
    v: &Values<'a>,
    target: &'a Target,
    row: usize,
    values: &[Values<'a>],
    raw: &mut RawLine<'a>,
) {
    match target {
        Target::Key { field, key, at } => {
            if let Some(cell) = v.get(row) {
                match (field, cell) {
                    (Field::Timestamp, Cell::Instant(t)) => put_instant(raw, t, at.rank),
                    (f, cell) => gateway::set_field(raw, *f, key, cell.into_scalar(), *at),
                }
            }
        }
        Target::UsageCount(k) => {
            if let Some(cell) = v.get(row) {
                gateway::set_usage(&mut raw.usage, *k, cell.into_scalar().count());
            }
        }
        Target::TotalCount(k) => {
            // (A blank text count is none, as the CSV reader has it:
            // hunt155, a warehouse's '' rejected the row.)
            let cell = v.get(row).map(Cell::into_scalar);
            if let Some(s) = cell.filter(|s| !matches!(s, Scalar::Str(t) if t.trim().is_empty())) {
                let total = raw.total_usage.get_or_insert_default();
                gateway::set_usage(total, *k, s.count());
            }
        }
        Target::UsageLabel(k) => {
            if let Some(cell) = v.get(row) {
                let label = cell.into_scalar().label();
                if *k == UsageKey::Cost {
                    gateway::set_usage_cost(&mut raw.usage, LMoney::from_label(label).0);
                } else if *k == UsageKey::UpstreamCost {
                    raw.usage.set_upstream_cost(LMoney::from_label(label).0);
                } else if *k == UsageKey::Byok {
                    raw.usage.set_byok(&label);
                } else {
                    gateway::set_usage_label(&mut raw.usage, *k, &label);
                }
            }
        }
        Target::ErrorObject(parts, rank) => {
            if v.is_valid(row) {
                let mut kind = gateway::KindByRank::default();
                for &(r, p) in parts {
                    if let Some(cell) = values[p].get(row) {
                        kind.offer(r, cell.into_scalar().label());
                    }
                }
                let held = &mut raw.ranks[Ranked::ErrorKind];
                put_ranked(&mut raw.error_kind.0, held, *rank, kind.kind());
            }
        }
        // Bound as ops of their own (a usage detail here has no column,
        // so no value).
        Target::UsageDetail { .. } | Target::Tags | Target::Text(_) | Target::Choices(_) => {}
    }
}

/// The first candidate column with a value in this row.
fn find<'a>(values: &[Values<'a>], candidates: &[Candidate], row: usize) -> Option<Scalar<'a>> {
    // As `mapping::find`: a null or blank value is none, the next path is
    // tried.
    candidates.iter().find_map(|c| {
        let x = values[c.column].get(row).map(Cell::into_scalar)?;
        let x = if c.within.is_empty() {
            x
        } else {
            within_json(x, &c.within)?
        };
        Some(json_string_text(x)).filter(|x| !x.is_blank())
    })
}

/// A string that is JSON text of a string (`"\"gpt-4o\""`, as MLflow
/// stores every span attribute): the string it holds, as a JSON line's
/// mapped value is read (hunt167: in a Parquet struct column the model
/// kept its quotes, unpriced).
fn json_string_text(x: Scalar<'_>) -> Scalar<'_> {
    if let Scalar::Str(text) = &x {
        if let Some(inner) = crate::source::container::json_string_literal(text.trim()) {
            return Scalar::Str(Cow::Owned(inner));
        }
    }
    x
}

/// The value at `keys` inside the JSON text of `text` (an object's keys, a
/// list's indexes), as a JSON line's value would be read; `None` when the
/// text is not JSON or holds nothing there.
fn within_json<'a>(text: Scalar<'a>, keys: &[String]) -> Option<Scalar<'a>> {
    use serde_json::Value;
    let Scalar::Str(text) = text else {
        return None;
    };
    Some(match within_value(&text, keys)? {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Bool(b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Scalar::U64(u),
            (None, Some(i)) => Scalar::I64(i),
            _ => Scalar::F64(n.as_f64()?),
        },
        Value::String(t) => Scalar::Str(Cow::Owned(t)),
        Value::Array(_) | Value::Object(_) => Scalar::Container,
    })
}

/// The value at `keys` inside JSON `text`.
fn within_value(text: &str, keys: &[String]) -> Option<serde_json::Value> {
    use serde_json::Value;
    let mut v: Value = serde_json::from_str(text).ok()?;
    for key in keys {
        // JSON text inside the JSON text (written twice over) is read too,
        // as the tree reader does.
        if let Value::String(t) = &v {
            v = serde_json::from_str(t).ok()?;
        }
        v = match v {
            Value::Object(mut m) => m.remove(key)?,
            Value::Array(a) => a.into_iter().nth(key.parse().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// The mapped usage object: the first value there, as `mapping::find`
/// (a null or blank one goes on to the next place), added as the line
/// reader adds it ([`crate::formats::mapping::usage_object`]).
fn mapped_usage<'a>(
    places: &[Result<(usize, Vec<Op<'a>>), &Candidate>],
    values: &[Values<'a>],
    row: usize,
    raw: &mut RawLine<'a>,
    named: bool,
) {
    for place in places {
        match place {
            Ok((column, ops)) if values[*column].is_valid(row) => {
                let mut object = RawLine::default();
                for op in ops {
                    op.apply(row, values, &mut object);
                }
                raw.usage.take_mapped(object.usage, named);
                return;
            }
            Ok(_) => {}
            Err(c) => {
                let Some(Cell::Scalar(Scalar::Str(text))) = values[c.column].get(row) else {
                    continue;
                };
                let v = if c.within.is_empty() {
                    serde_json::Value::String(text.into_owned())
                } else {
                    match within_value(&text, &c.within) {
                        Some(v) => v,
                        None => continue,
                    }
                };
                if v.is_null() || v.as_str().is_some_and(|t| t.trim().is_empty()) {
                    continue;
                }
                if let Some(u) = crate::formats::mapping::usage_object(&v) {
                    raw.usage.take_mapped(u, named);
                }
                return;
            }
        }
    }
}

/// `Mapping::apply`, reading the mapped values from the columns.
fn apply_mapping<'a>(
    m: &Mapping,
    p: &MappedPlan,
    values: &[Values<'a>],
    row: usize,
    raw: &mut RawLine<'a>,
) {
    for (slot, candidates) in &p.fields {
        if let Some(x) = find(values, candidates, row) {
            slot.set(raw, x);
        }
    }
    match p.timestamp.as_deref().and_then(|c| find(values, c, row)) {
        Some(x) => raw.timestamp = mapping_scan::time(m, x),
        None => {
            if let (Some(_), Lenient::Value(_)) = (m.origin(), &raw.timestamp.0) {
                if let Some(x) = find(values, &p.origin_keys, row) {
                    raw.timestamp = mapping_scan::time(m, x);
                }
            }
        }
    }
    for (key, candidates) in &p.tags {
        if let Some(x) = find(values, candidates, row) {
            if let Lenient::Value(text) = x.label() {
                m.set_tag(raw, key, text);
            }
        }
    }
    if let Some(tokens) = &p.tokens {
        let mut counts: [Lenient<u64>; crate::formats::mapping::TOKEN_SLOTS] = Default::default();
        for (count, candidates) in counts.iter_mut().zip(tokens) {
            if let Some(x) = find(values, candidates, row) {
                *count = LU64(x.count()).0;
            }
        }
        m.set_tokens(raw, counts);
    }
    m.apply_defaults(raw);
}

/// A `tags` column by its shape (see `gateway::scan_tags`).
enum TagsColumn<'a> {
    /// Text: JSON-encoded tags; other scalars are no tags.
    Scalar(&'a Values<'a>),
    /// A struct: each field is a tag, in name order.
    Struct(Vec<(&'a str, Values<'a>)>, &'a Values<'a>),
    /// A list: each label is a `tag=VALUE`.
    List {
        offsets: Vec<usize>,
        items: Values<'a>,
        whole: &'a Values<'a>,
    },
    /// A list of `{key, value}` structs (BigQuery's `REPEATED RECORD`):
    /// each a tag, in list order (see `tags::pair_tag`).
    Pairs {
        offsets: Vec<usize>,
        keys: Values<'a>,
        items: Values<'a>,
        whole: &'a Values<'a>,
    },
    /// A map: an object, keys sorted, a later duplicate winning.
    Map {
        offsets: Vec<usize>,
        keys: Values<'a>,
        items: Values<'a>,
        whole: &'a Values<'a>,
    },
}

impl<'a> TagsColumn<'a> {
    fn new(batch: &'a RecordBatch, path: &[String], whole: &'a Values<'a>) -> TagsColumn<'a> {
        let Some((array, parents)) = column_at(batch, path) else {
            return TagsColumn::Scalar(whole);
        };
        let values = |a: &'a dyn Array, parents: Option<&NullBuffer>| {
            Values::new(a, parents).unwrap_or_else(|_| Values::absent())
        };
        let n = array.len();
        match array.data_type() {
            DataType::Struct(_) => {
                let s = array.as_struct();
                let nulls = NullBuffer::union(parents.as_ref(), s.nulls());
                // A blank name is no tag, whatever its value.
                let mut fields: Vec<(&'a str, Values<'a>)> = s
                    .fields()
                    .iter()
                    .zip(s.columns())
                    .filter(|(f, _)| !is_binary(f.data_type()))
                    .filter(|(f, _)| non_empty(Cow::Borrowed(f.name().as_str())).is_present())
                    .map(|(f, c)| (f.name().as_str(), values(c.as_ref(), nulls.as_ref())))
                    .collect();
                fields.sort_by(|a, b| a.0.cmp(b.0));
                TagsColumn::Struct(fields, whole)
            }
            DataType::List(_) => {
                let l = array.as_list::<i32>();
                let offsets = || l.offsets().iter().map(|&o| o as usize).collect();
                if let Some((keys, items)) = pair_columns(l.values().as_ref()) {
                    return TagsColumn::Pairs {
                        offsets: offsets(),
                        keys: values(keys, None),
                        items: values(items, None),
                        whole,
                    };
                }
                TagsColumn::List {
                    offsets: l.offsets().iter().map(|&o| o as usize).collect(),
                    items: values(l.values().as_ref(), None),
                    whole,
                }
            }
            DataType::LargeList(_) => {
                let l = array.as_list::<i64>();
                TagsColumn::List {
                    offsets: l.offsets().iter().map(|&o| o as usize).collect(),
                    items: values(l.values().as_ref(), None),
                    whole,
                }
            }
            DataType::FixedSizeList(_, size) => {
                let l = array.as_fixed_size_list();
                let size = usize::try_from(*size).unwrap_or(0);
                TagsColumn::List {
                    offsets: (0..=n).map(|i| (i + l.offset()) * size).collect(),
                    items: values(l.values().as_ref(), None),
                    whole,
                }
            }
            DataType::Map(_, _) => {
                let m = array.as_map();
                TagsColumn::Map {
                    offsets: m.value_offsets().iter().map(|&o| o as usize).collect(),
                    keys: values(m.keys().as_ref(), None),
                    items: values(m.values().as_ref(), None),
                    whole,
                }
            }
            _ => TagsColumn::Scalar(whole),
        }
    }

    fn push(&self, row: usize, out: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>) {
        match self {
            TagsColumn::Scalar(v) => {
                if let Some(Scalar::Str(text)) = v.get(row).map(Cell::into_scalar) {
                    gateway::push_text_tags(out, &text);
                }
            }
            TagsColumn::Struct(fields, whole) => {
                if !whole.is_valid(row) {
                    return;
                }
                for (name, v) in fields {
                    if let Some(Lenient::Value(v)) = v.label(row) {
                        out.push((Cow::Borrowed(*name), v));
                    }
                }
            }
            TagsColumn::List {
                offsets,
                items,
                whole,
            } => {
                if !whole.is_valid(row) {
                    return;
                }
                for j in offsets[row]..offsets[row + 1] {
                    if let Some(Lenient::Value(v)) = items.label(j) {
                        out.push(list_tag(v));
                    }
                }
            }
            TagsColumn::Pairs {
                offsets,
                keys,
                items,
                whole,
            } => {
                if !whole.is_valid(row) {
                    return;
                }
                for j in offsets[row]..offsets[row + 1] {
                    if let (Some(Lenient::Value(k)), Some(Lenient::Value(v))) =
                        (keys.label(j), items.label(j))
                    {
                        out.push((k, v));
                    }
                }
            }
            TagsColumn::Map {
                offsets,
                keys,
                items,
                whole,
            } => {
                if !whole.is_valid(row) {
                    return;
                }
                // The JSON form's object: null values left out, keys
                // sorted, the last of a duplicate kept.
                let mut entries: Vec<(Cow<'a, str>, Scalar<'a>)> = Vec::new();
                for j in offsets[row]..offsets[row + 1] {
                    if let (Some(Lenient::Value(k)), Some(v)) = (keys.label(j), items.get(j)) {
                        entries.push((k, v.into_scalar()));
                    }
                }
                entries.reverse();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                entries.dedup_by(|a, b| a.0 == b.0);
                for (k, v) in entries {
                    if let (Lenient::Value(k), Lenient::Value(v)) = (non_empty(k), v.label()) {
                        out.push((k, v));
                    }
                }
            }
        }
    }
}

/// A list item that is a `{key, value}` struct (`name` for `key`): its key
/// and value columns.
fn pair_columns(items: &dyn Array) -> Option<(&dyn Array, &dyn Array)> {
    let s = items.as_struct_opt()?;
    let child = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| s.column_by_name(n))
            .map(|c| c.as_ref())
    };
    Some((
        child(&["key", "Key", "name", "Name"])?,
        child(&["value", "Value"])?,
    ))
}

#[cfg(test)]
mod tests;
