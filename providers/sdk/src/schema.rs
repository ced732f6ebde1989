//! Schemas: what a provider's resources accept and compute.

use std::collections::BTreeMap;

/// The type of an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttrType {
    /// A string.
    String,
    /// A number.
    Number,
    /// A bool.
    Bool,
    /// A list of one element type.
    List(Box<AttrType>),
    /// A set of one element type.
    Set(Box<AttrType>),
    /// A map of one element type.
    Map(Box<AttrType>),
    /// An object with fixed attributes.
    Object(BTreeMap<String, AttrType>),
    /// Any value (`terraform_data.input`).
    Dynamic,
}

/// One attribute of a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// Its type.
    pub kind: AttrType,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (when `optional` too: unless configured).
    pub computed: bool,
    /// A change replaces the object.
    pub force_new: bool,
    /// Never shown.
    pub sensitive: bool,
    /// One sentence for docs and hints.
    pub description: &'static str,
}

impl Attribute {
    fn new(kind: AttrType) -> Attribute {
        Attribute {
            kind,
            required: false,
            optional: false,
            computed: false,
            force_new: false,
            sensitive: false,
            description: "",
        }
    }

    /// A required argument.
    pub fn required(kind: AttrType) -> Attribute {
        Attribute { required: true, ..Attribute::new(kind) }
    }

    /// An optional argument.
    pub fn optional(kind: AttrType) -> Attribute {
        Attribute { optional: true, ..Attribute::new(kind) }
    }

    /// An attribute only the provider sets.
    pub fn computed(kind: AttrType) -> Attribute {
        Attribute { computed: true, ..Attribute::new(kind) }
    }

    /// Also computed (optional + computed: the provider fills it when not configured).
    pub fn and_computed(mut self) -> Attribute {
        self.computed = true;
        self
    }

    /// Changing it replaces the object.
    pub fn force_new(mut self) -> Attribute {
        self.force_new = true;
        self
    }

    /// Never shown.
    pub fn sensitive(mut self) -> Attribute {
        self.sensitive = true;
        self
    }

    /// With a description.
    pub fn describe(mut self, description: &'static str) -> Attribute {
        self.description = description;
        self
    }
}

/// How many nested blocks of a type a block holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one; its value is an object (or null).
    Single,
    /// A list of objects.
    List,
    /// A set of objects.
    Set,
}

/// A nested block type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NestedBlock {
    /// How many.
    pub nesting: Nesting,
    /// What each holds.
    pub block: BlockSchema,
    /// A change replaces the object.
    pub force_new: bool,
}

/// The attributes and nested blocks of a block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockSchema {
    /// Attributes by name.
    pub attributes: BTreeMap<String, Attribute>,
    /// Nested block types by name.
    pub blocks: BTreeMap<String, NestedBlock>,
}

impl BlockSchema {
    /// An empty block.
    pub fn new() -> BlockSchema {
        BlockSchema::default()
    }

    /// Adds an attribute.
    pub fn attribute(mut self, name: &str, attribute: Attribute) -> BlockSchema {
        self.attributes.insert(name.to_string(), attribute);
        self
    }

    /// Adds a nested block type.
    pub fn block(mut self, name: &str, block: NestedBlock) -> BlockSchema {
        self.blocks.insert(name.to_string(), block);
        self
    }
}

/// A resource type or data source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSchema {
    /// Bumped when the stored shape changes.
    pub version: u64,
    /// Its top-level block.
    pub block: BlockSchema,
}

/// Everything a provider declares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderSchema {
    /// The `provider` block.
    pub provider: BlockSchema,
    /// Managed resource types.
    pub resources: BTreeMap<String, ResourceSchema>,
    /// Data source types.
    pub data_sources: BTreeMap<String, ResourceSchema>,
}
