//! `random_pet`, `random_integer`, `random_uuid`, `random_shuffle` and `random_bytes`, as the
//! `hashicorp/random` provider: chosen once on create, kept in state until an argument (or
//! `keepers`) change replaces them. A `seed` makes `random_integer` and `random_shuffle`
//! repeatable within infra (not the same numbers as the Go provider's generator).

use base64::Engine;
use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, Number, PlanRequest, PlanResponse, ResourceSchema,
    Value, plan_by_schema,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use std::collections::BTreeMap;

fn keepers() -> Attribute {
    Attribute::optional(AttrType::Map(Box::new(AttrType::String))).force_new()
}

/// `random_pet`'s schema.
pub fn pet_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("keepers", keepers())
            .attribute("length", Attribute::optional(AttrType::Number).and_computed().force_new())
            .attribute("prefix", Attribute::optional(AttrType::String).force_new())
            .attribute("separator", Attribute::optional(AttrType::String).and_computed().force_new())
            .attribute("id", Attribute::computed(AttrType::String)),
    }
}

/// `random_integer`'s schema.
pub fn integer_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("keepers", keepers())
            .attribute("min", Attribute::required(AttrType::Number).force_new())
            .attribute("max", Attribute::required(AttrType::Number).force_new())
            .attribute("seed", Attribute::optional(AttrType::String).force_new())
            .attribute("result", Attribute::computed(AttrType::Number))
            .attribute("id", Attribute::computed(AttrType::String)),
    }
}

/// `random_uuid`'s schema.
pub fn uuid_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("keepers", keepers())
            .attribute("result", Attribute::computed(AttrType::String))
            .attribute("id", Attribute::computed(AttrType::String)),
    }
}

/// `random_shuffle`'s schema.
pub fn shuffle_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("keepers", keepers())
            .attribute("input", Attribute::required(AttrType::List(Box::new(AttrType::String))).force_new())
            .attribute("result_count", Attribute::optional(AttrType::Number).force_new())
            .attribute("seed", Attribute::optional(AttrType::String).force_new())
            .attribute("result", Attribute::computed(AttrType::List(Box::new(AttrType::String))))
            .attribute("id", Attribute::computed(AttrType::String)),
    }
}

/// `random_bytes`'s schema.
pub fn bytes_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("keepers", keepers())
            .attribute("length", Attribute::required(AttrType::Number).force_new())
            .attribute("base64", Attribute::computed(AttrType::String).sensitive())
            .attribute("hex", Attribute::computed(AttrType::String).sensitive())
            .attribute("id", Attribute::computed(AttrType::String)),
    }
}

/// The schema's plan with `random_pet`'s defaults (two words joined by `-`) filled in.
pub fn plan(schema: &BlockSchema, request: &PlanRequest) -> PlanResponse {
    let mut response = plan_by_schema(Some(schema), request);
    if request.kind == "random_pet"
        && let Value::Map(planned) = &mut response.planned
    {
        for (name, default) in [("length", Value::int(2)), ("separator", Value::from("-"))] {
            if let Some(value) = planned.get_mut(name)
                && !value.is_known()
            {
                *value = default;
            }
        }
    }
    response
}

fn integer(object: &BTreeMap<String, Value>, name: &str) -> Option<i64> {
    object.get(name).and_then(Value::as_number).and_then(|n| n.to_i64())
}

/// A generator: seeded from `seed` when given (repeatable), else from the OS.
fn generator(object: &BTreeMap<String, Value>) -> StdRng {
    match object.get("seed").and_then(Value::as_str) {
        Some(seed) => {
            use sha2::Digest;
            StdRng::from_seed(sha2::Sha256::digest(seed.as_bytes()).into())
        }
        None => StdRng::from_os_rng(),
    }
}

/// Creates (chooses) or deletes one of these types; an update keeps what was chosen.
///
/// # Errors
///
/// `random_integer` with `min` above `max`.
pub fn apply(request: &ApplyRequest) -> Result<ApplyResponse, infra_provider::Diagnostics> {
    let Some(Value::Map(mut object)) = request.planned.as_ref().map(|p| p.clone().deep_unmark()) else {
        return Ok(ApplyResponse { new: None });
    };
    if object.get("id").is_some_and(Value::is_known) {
        return Ok(ApplyResponse { new: Some(Value::Map(object)) });
    }
    let mut rng = generator(&object);
    match request.kind.as_str() {
        "random_pet" => {
            let length = integer(&object, "length").unwrap_or(2).clamp(1, 64) as usize;
            let separator = object.get("separator").and_then(Value::as_str).unwrap_or("-").to_string();
            let mut words: Vec<&str> = Vec::with_capacity(length + 1);
            if let Some(prefix) = object.get("prefix").and_then(Value::as_str) {
                words.push(prefix);
            }
            let pick = |rng: &mut StdRng, list: &[&'static str]| list[rng.random_range(0..list.len())];
            for _ in 2..length {
                words.push(pick(&mut rng, ADVERBS));
            }
            if length >= 2 {
                words.push(pick(&mut rng, ADJECTIVES));
            }
            words.push(pick(&mut rng, NAMES));
            let id = words.join(&separator);
            object.insert("id".into(), Value::String(id));
        }
        "random_integer" => {
            let (min, max) = (integer(&object, "min").unwrap_or(0), integer(&object, "max").unwrap_or(0));
            if min > max {
                return Err(infra_provider::Diagnostic::error(
                    "Invalid range",
                    format!("`min` ({min}) is greater than `max` ({max})."),
                )
                .into());
            }
            let result = rng.random_range(min..=max);
            object.insert("result".into(), Value::Number(Number::from(result)));
            object.insert("id".into(), Value::String(result.to_string()));
        }
        "random_uuid" => {
            let mut bytes = [0u8; 16];
            rng.fill_bytes(&mut bytes);
            let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid().to_string();
            object.insert("result".into(), Value::String(uuid.clone()));
            object.insert("id".into(), Value::String(uuid));
        }
        "random_shuffle" => {
            let mut input: Vec<Value> =
                object.get("input").and_then(Value::as_items).map(<[Value]>::to_vec).unwrap_or_default();
            input.shuffle(&mut rng);
            let count = integer(&object, "result_count").map_or(input.len(), |n| n.clamp(0, i64::MAX) as usize);
            // As the random provider: a count above the input's length repeats the shuffle.
            let result: Vec<Value> =
                if input.is_empty() { Vec::new() } else { input.iter().cycle().take(count).cloned().collect() };
            object.insert("result".into(), Value::List(result));
            object.insert("id".into(), Value::from("-"));
        }
        _ => {
            let length = integer(&object, "length").unwrap_or(32).clamp(1, 1 << 20) as usize;
            let mut bytes = vec![0u8; length];
            rng.fill_bytes(&mut bytes);
            object.insert("base64".into(), Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)));
            object.insert("hex".into(), Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect()));
            object.insert("id".into(), Value::from("none"));
        }
    }
    Ok(ApplyResponse { new: Some(Value::Map(object)) })
}

const ADVERBS: &[&str] = &[
    "abnormally",
    "absolutely",
    "accurately",
    "actively",
    "actually",
    "adequately",
    "admittedly",
    "adversely",
    "allegedly",
    "amazingly",
    "annually",
    "apparently",
    "arguably",
    "badly",
    "barely",
    "basically",
    "blatantly",
    "blindly",
    "briefly",
    "brightly",
    "broadly",
    "busily",
    "calmly",
    "carefully",
    "certainly",
    "cheaply",
    "clearly",
    "closely",
    "commonly",
    "completely",
    "constantly",
    "correctly",
    "curiously",
    "daily",
    "deeply",
    "definitely",
    "directly",
    "distinctly",
    "duly",
    "early",
    "easily",
    "eminently",
    "endlessly",
    "equally",
    "evenly",
    "exactly",
    "factually",
    "fairly",
    "finally",
    "firmly",
    "forcibly",
    "freely",
    "frankly",
    "gently",
    "genuinely",
    "gladly",
    "greatly",
    "happily",
    "hardly",
    "highly",
    "honestly",
    "hugely",
    "ideally",
    "jointly",
    "justly",
    "kindly",
    "largely",
    "lately",
    "legally",
    "lightly",
    "likely",
    "literally",
    "locally",
    "loudly",
    "mainly",
    "manually",
    "merely",
    "mildly",
    "mostly",
    "namely",
    "nationally",
    "nearly",
    "neatly",
    "newly",
    "nicely",
    "notably",
    "openly",
    "overly",
    "partially",
    "perfectly",
    "plainly",
    "politely",
    "poorly",
    "possibly",
    "presently",
    "promptly",
    "properly",
    "purely",
    "quickly",
    "quietly",
    "rapidly",
    "rarely",
    "readily",
    "really",
    "recently",
    "remarkably",
    "rightly",
    "roughly",
    "safely",
    "seemingly",
    "sharply",
    "simply",
    "slightly",
    "slowly",
    "smoothly",
    "solely",
    "specially",
    "steadily",
    "strongly",
    "subtly",
    "suddenly",
    "surely",
    "swiftly",
    "terribly",
    "thankfully",
    "totally",
    "truly",
    "typically",
    "usually",
    "vastly",
    "virtually",
    "warmly",
    "weekly",
    "wholly",
    "widely",
    "wildly",
    "willingly",
    "wisely",
    "yearly",
];

const ADJECTIVES: &[&str] = &[
    "able", "active", "adapted", "adjusted", "allowed", "amazed", "amused", "apparent", "awake", "aware", "balanced",
    "basic", "beloved", "big", "blessed", "bold", "brave", "brief", "bright", "brisk", "busy", "calm", "capable",
    "careful", "causal", "charmed", "cheerful", "choice", "civil", "clean", "clear", "climbing", "close", "comic",
    "communal", "complete", "composed", "concise", "cool", "correct", "cosmic", "crack", "creative", "credible",
    "crisp", "cuddly", "cunning", "curious", "daring", "dear", "decent", "deep", "delicate", "desired", "direct",
    "distinct", "divine", "driven", "dynamic", "eager", "easy", "electric", "elegant", "emerging", "enabled",
    "enabling", "endless", "engaged", "enjoyed", "enormous", "equal", "eternal", "exact", "excited", "expert", "fair",
    "faithful", "famous", "fancy", "fast", "feasible", "fine", "firm", "fit", "flexible", "fluent", "flying", "fond",
    "free", "fresh", "full", "funny", "game", "generous", "gentle", "genuine", "giving", "glad", "glorious", "golden",
    "good", "grand", "grateful", "great", "growing", "handy", "happy", "hardy", "harmless", "healthy", "helped",
    "helpful", "hip", "holy", "honest", "hopeful", "hot", "humane", "humble", "ideal", "immense", "immune", "improved",
    "in", "informed", "innocent", "intense", "intent", "internal", "keen", "key", "kind", "knowing", "large",
    "lasting", "leading", "learning", "legal", "liberal", "light", "literate", "live", "living", "logical", "loved",
    "loving", "loyal", "lucky", "magical", "main", "major", "massive", "master", "mature", "measured", "merry",
    "mighty", "mint", "modern", "modest", "moral", "moved", "moving", "musical", "mutual", "national", "native",
    "natural", "neat", "needed", "neutral", "new", "next", "nice", "noble", "normal", "notable", "novel", "obliging",
    "open", "optimal", "organic", "patient", "perfect", "pet", "picked", "pleased", "polite", "popular", "positive",
    "possible", "powerful", "precious", "premium", "present", "pretty", "prime", "pro", "probable", "profound",
    "promoted", "proper", "proud", "quality", "quick", "quiet", "rapid", "rare", "rational", "ready", "real",
    "refined", "regular", "related", "relative", "relaxed", "relevant", "renewed", "resolved", "rested", "rich",
    "right", "robust", "romantic", "ruling", "sacred", "safe", "saved", "secure", "select", "selected", "sensible",
    "set", "settled", "sharp", "shining", "simple", "sincere", "singular", "skilled", "smart", "smashing", "smiling",
    "smooth", "social", "solid", "sound", "special", "splendid", "stable", "steady", "sterling", "still", "stirred",
    "strong", "stunning", "subtle", "suitable", "sunny", "super", "superb", "supreme", "sure", "sweeping", "sweet",
    "tender", "thankful", "touched", "tough", "tidy", "topical", "true", "trusted", "trusting", "ultimate", "unbiased",
    "united", "up", "upright", "usable", "useful", "valid", "vast", "verified", "viable", "vital", "vocal", "wanted",
    "warm", "wealthy", "welcome", "well", "whole", "willing", "winning", "wired", "wise", "witty", "wondrous",
    "workable", "worthy",
];

const NAMES: &[&str] = &[
    "aardvark",
    "adder",
    "airedale",
    "akita",
    "albacore",
    "alien",
    "alpaca",
    "amoeba",
    "anchovy",
    "anemone",
    "ant",
    "anteater",
    "antelope",
    "ape",
    "aphid",
    "arachnid",
    "asp",
    "baboon",
    "badger",
    "barnacle",
    "basilisk",
    "bass",
    "bat",
    "bear",
    "beagle",
    "beetle",
    "bengal",
    "bird",
    "bison",
    "blowfish",
    "bluebird",
    "bluegill",
    "bluejay",
    "boa",
    "boar",
    "bobcat",
    "bonefish",
    "boxer",
    "bream",
    "buck",
    "buffalo",
    "bug",
    "bull",
    "bulldog",
    "bullfrog",
    "bunny",
    "buzzard",
    "calf",
    "camel",
    "canary",
    "cardinal",
    "caribou",
    "carp",
    "cat",
    "catfish",
    "cattle",
    "chamois",
    "cheetah",
    "chicken",
    "chigger",
    "chimp",
    "chipmunk",
    "cicada",
    "clam",
    "cobra",
    "cod",
    "collie",
    "colt",
    "condor",
    "coral",
    "corgi",
    "cougar",
    "cow",
    "coyote",
    "crab",
    "crane",
    "crappie",
    "cricket",
    "crow",
    "cub",
    "cicada",
    "dane",
    "deer",
    "dingo",
    "dinosaur",
    "doe",
    "dog",
    "dogfish",
    "dolphin",
    "donkey",
    "dory",
    "dove",
    "dragon",
    "drake",
    "drum",
    "duck",
    "eagle",
    "earwig",
    "eel",
    "egret",
    "elephant",
    "elf",
    "elk",
    "emu",
    "ewe",
    "falcon",
    "fawn",
    "feline",
    "ferret",
    "filly",
    "finch",
    "fish",
    "flamingo",
    "flea",
    "flounder",
    "fly",
    "foal",
    "fowl",
    "fox",
    "frog",
    "gannet",
    "gar",
    "gazelle",
    "gecko",
    "gelding",
    "ghost",
    "ghoul",
    "gibbon",
    "giraffe",
    "glider",
    "gnat",
    "gnu",
    "goat",
    "goblin",
    "goldfish",
    "goose",
    "gopher",
    "gorilla",
    "grackle",
    "griffon",
    "grizzly",
    "grouper",
    "grouse",
    "grub",
    "guinea",
    "gull",
    "guppy",
    "haddock",
    "hagfish",
    "halibut",
    "hamster",
    "hare",
    "hawk",
    "hedgehog",
    "hen",
    "hermit",
    "heron",
    "herring",
    "hippo",
    "hog",
    "honeybee",
    "hookworm",
    "hornet",
    "horse",
    "hound",
    "humpback",
    "husky",
    "hyena",
    "ibex",
    "iguana",
    "impala",
    "insect",
    "jackal",
    "jaguar",
    "jawfish",
    "jay",
    "jennet",
    "joey",
    "kangaroo",
    "katydid",
    "kid",
    "killdeer",
    "kingfish",
    "kit",
    "kite",
    "kitten",
    "kiwi",
    "koala",
    "kodiak",
    "koi",
    "krill",
    "lab",
    "labrador",
    "lacewing",
    "ladybird",
    "ladybug",
    "lamb",
    "lamprey",
    "lark",
    "leech",
    "lemming",
    "lemur",
    "leopard",
    "liger",
    "lion",
    "lionfish",
    "lizard",
    "llama",
    "lobster",
    "locust",
    "longhorn",
    "loon",
    "louse",
    "lynx",
    "macaque",
    "macaw",
    "mackerel",
    "maggot",
    "magpie",
    "malamute",
    "mallard",
    "mammal",
    "mammoth",
    "man",
    "manatee",
    "mantis",
    "marlin",
    "marmoset",
    "marmot",
    "marten",
    "martin",
    "mastiff",
    "mayfly",
    "meerkat",
    "midge",
    "mink",
    "minnow",
    "mite",
    "moccasin",
    "mole",
    "mollusk",
    "molly",
    "monarch",
    "mongoose",
    "monitor",
    "monkey",
    "monkfish",
    "monster",
    "moose",
    "moray",
    "mosquito",
    "moth",
    "mouse",
    "mudfish",
    "mule",
    "mullet",
    "muskox",
    "muskrat",
    "mustang",
    "mutt",
    "narwhal",
    "newt",
    "octopus",
    "opossum",
    "orca",
    "oriole",
    "osprey",
    "ostrich",
    "otter",
    "owl",
    "ox",
    "oyster",
    "panda",
    "panther",
    "parakeet",
    "parrot",
    "peacock",
    "pegasus",
    "pelican",
    "penguin",
    "perch",
    "pheasant",
    "phoenix",
    "pig",
    "pigeon",
    "piglet",
    "pika",
    "pipefish",
    "piranha",
    "platypus",
    "polecat",
    "pony",
    "poodle",
    "porpoise",
    "possum",
    "prawn",
    "primate",
    "pug",
    "puma",
    "python",
    "quail",
    "rabbit",
    "raccoon",
    "ram",
    "raptor",
    "rat",
    "rattler",
    "raven",
    "reindeer",
    "reptile",
    "rhino",
    "robin",
    "rodent",
    "rooster",
    "roughy",
    "sailfish",
    "salmon",
    "sawfish",
    "sawfly",
    "scorpion",
    "sculpin",
    "seagull",
    "seahorse",
    "seal",
    "seasnail",
    "serval",
    "shad",
    "shark",
    "sheep",
    "sheepdog",
    "shepherd",
    "shiner",
    "shrew",
    "shrimp",
    "silkworm",
    "skink",
    "skunk",
    "skylark",
    "sloth",
    "slug",
    "snail",
    "snake",
    "snapper",
    "snipe",
    "sole",
    "sparrow",
    "spider",
    "sponge",
    "squid",
    "squirrel",
    "stag",
    "stallion",
    "starfish",
    "starling",
    "stingray",
    "stinkbug",
    "stork",
    "strayhound",
    "sturgeon",
    "sunbeam",
    "sunbird",
    "sunfish",
    "swan",
    "swift",
    "swine",
    "tadpole",
    "tahr",
    "tapir",
    "tarpon",
    "teal",
    "termite",
    "terrapin",
    "terrier",
    "tetra",
    "thrush",
    "tick",
    "tiger",
    "titmouse",
    "toad",
    "tomcat",
    "tortoise",
    "toucan",
    "treefrog",
    "trout",
    "tuna",
    "turkey",
    "turtle",
    "unicorn",
    "urchin",
    "vervet",
    "viper",
    "vulture",
    "wahoo",
    "walleye",
    "walrus",
    "warthog",
    "wasp",
    "weasel",
    "weevil",
    "whale",
    "whippet",
    "wildcat",
    "wolf",
    "wolfhound",
    "wombat",
    "woodcock",
    "worm",
    "wren",
    "yak",
    "yeti",
    "zebra",
];
