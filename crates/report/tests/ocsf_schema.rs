//! Every OCSF finding the writer emits is checked against the OCSF 1.8.0 schema source files in
//! `../shared/reference/ocsf` (not copied into the repository): class, category and type ids,
//! required attributes, `at_least_one` constraints, enum values, attribute types, unknown
//! attributes, profiles declared for profile attributes, and the stable places tokentrail
//! promises in `docs/finding-schema.md`.
//!
//! The schema is resolved the way the OCSF server compiles it, for the parts we need: a class
//! or object `extends` its parent (attributes merged key by key, enums merged), `$include`
//! pulls in a profile's attributes (tagged with that profile), and an attribute's type and
//! array-ness come from `dictionary.json` unless the object overrides them.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use tokentrail_model::{Finding, NetworkId};
use tokentrail_report::ocsf::{ocsf_value, OcsfOptions};

fn schema_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/ocsf");
    if dir.join("dictionary.json").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("../shared/reference/ocsf not found and CI=true");
    }
    eprintln!("skipped: ../shared not found ({})", dir.display());
    None
}

#[derive(Clone, Debug, Default)]
struct Attr {
    type_name: String,
    is_array: bool,
    requirement: String,
    enum_keys: BTreeSet<i64>,
    profile: Option<String>,
}

#[derive(Clone, Debug, Default)]
struct Record {
    attrs: BTreeMap<String, Attr>,
    at_least_one: Vec<String>,
}

struct Schema {
    dir: PathBuf,
    dictionary: Value,
    /// Record name (`detection_finding`, `user`, ...) to its file.
    files: BTreeMap<String, PathBuf>,
    cache: std::cell::RefCell<BTreeMap<String, Record>>,
    observable_ids: BTreeSet<i64>,
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn enum_keys(v: &Value) -> BTreeSet<i64> {
    v.get("enum")
        .and_then(Value::as_object)
        .map(|m| m.keys().filter_map(|k| k.parse().ok()).collect())
        .unwrap_or_default()
}

impl Schema {
    fn load(dir: &Path) -> Schema {
        let mut files = BTreeMap::new();
        let mut stack = vec![dir.join("events"), dir.join("objects")];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let name = read_json(&path)["name"].as_str().unwrap().to_owned();
                    files.insert(name, path);
                }
            }
        }
        let dictionary = read_json(&dir.join("dictionary.json"));
        // Observable type ids are declared on types, dictionary attributes and objects.
        let mut observable_ids: BTreeSet<i64> = [0, 99].into();
        let mut collect = |v: &Value| {
            let mut stack = vec![v.clone()];
            while let Some(v) = stack.pop() {
                match v {
                    Value::Object(m) => {
                        if let Some(n) = m.get("observable").and_then(Value::as_i64) {
                            observable_ids.insert(n);
                        }
                        stack.extend(m.into_iter().map(|(_, v)| v));
                    }
                    Value::Array(a) => stack.extend(a),
                    _ => {}
                }
            }
        };
        collect(&dictionary);
        for path in files.values() {
            collect(&read_json(path));
        }
        Schema {
            dir: dir.to_owned(),
            dictionary,
            files,
            cache: Default::default(),
            observable_ids,
        }
    }

    fn dict_attr(&self, name: &str) -> Option<&Value> {
        self.dictionary["attributes"].get(name)
    }

    /// A scalar type's base (`ip_t` -> `string_t`).
    fn base_type<'a>(&'a self, t: &'a str) -> &'a str {
        self.dictionary["types"]["attributes"]
            .get(t)
            .and_then(|d| d.get("type"))
            .and_then(Value::as_str)
            .unwrap_or(t)
    }

    fn is_scalar(&self, t: &str) -> bool {
        t == "object" || self.dictionary["types"]["attributes"].get(t).is_some()
    }

    fn record(&self, name: &str) -> Record {
        if let Some(r) = self.cache.borrow().get(name) {
            return r.clone();
        }
        let path = self
            .files
            .get(name)
            .unwrap_or_else(|| panic!("schema has no {name}"));
        let raw = read_json(path);
        let mut record = match raw.get("extends").and_then(Value::as_str) {
            Some(parent) => self.record(parent),
            None => Record::default(),
        };
        if let Some(c) = raw["constraints"]["at_least_one"].as_array() {
            record.at_least_one = c.iter().map(|v| v.as_str().unwrap().to_owned()).collect();
        }
        let attrs = raw["attributes"].as_object().cloned().unwrap_or_default();
        if let Some(includes) = attrs.get("$include").and_then(Value::as_array) {
            for inc in includes {
                let profile = read_json(&self.dir.join(inc.as_str().unwrap()));
                let pname = profile["name"].as_str().unwrap().to_owned();
                for (k, v) in profile["attributes"].as_object().unwrap() {
                    self.merge(&mut record, k, v, Some(&pname));
                }
            }
        }
        for (k, v) in &attrs {
            if k != "$include" {
                self.merge(&mut record, k, v, None);
            }
        }
        self.cache
            .borrow_mut()
            .insert(name.to_owned(), record.clone());
        record
    }

    fn merge(&self, record: &mut Record, name: &str, v: &Value, profile: Option<&str>) {
        let dict = self
            .dict_attr(name)
            .unwrap_or_else(|| panic!("{name} not in dictionary"));
        let entry = record.attrs.entry(name.to_owned()).or_insert_with(|| Attr {
            type_name: dict["type"].as_str().unwrap_or("string_t").to_owned(),
            is_array: dict["is_array"].as_bool().unwrap_or(false),
            requirement: "optional".to_owned(),
            enum_keys: enum_keys(dict),
            profile: None,
        });
        if let Some(t) = v.get("type").and_then(Value::as_str) {
            entry.type_name = t.to_owned();
        }
        if let Some(a) = v.get("is_array").and_then(Value::as_bool) {
            entry.is_array = a;
        }
        if let Some(r) = v.get("requirement").and_then(Value::as_str) {
            entry.requirement = r.to_owned();
        }
        entry.enum_keys.extend(enum_keys(v));
        match v.get("profile") {
            Some(Value::Null) => entry.profile = None,
            Some(Value::String(p)) => entry.profile = Some(p.clone()),
            _ => {
                if let Some(p) = profile {
                    entry.profile = Some(p.to_owned());
                }
            }
        }
    }
}

/// RFC 3339 as the `datetime_t` regex of the 1.8.0 dictionary spells it.
fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if b.len() < 19
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || !matches!(b[10], b'T' | b't')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    matches!(rest, "" | "Z" | "z")
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':')
}

struct Checker<'a> {
    schema: &'a Schema,
    profiles: BTreeSet<String>,
    errors: Vec<String>,
}

impl Checker<'_> {
    fn object(&mut self, path: &str, record_name: &str, value: &Value) {
        let Some(map) = value.as_object() else {
            self.errors.push(format!("{path}: not an object"));
            return;
        };
        let record = self.schema.record(record_name);
        for (name, attr) in &record.attrs {
            if attr.requirement == "required"
                && !map.contains_key(name)
                && attr
                    .profile
                    .as_ref()
                    .is_none_or(|p| self.profiles.contains(p))
            {
                self.errors.push(format!("{path}: required {name} missing"));
            }
        }
        if !record.at_least_one.is_empty()
            && !record.at_least_one.iter().any(|k| map.contains_key(k))
        {
            self.errors.push(format!(
                "{path}: needs at least one of {:?}",
                record.at_least_one
            ));
        }
        for (key, v) in map {
            let here = format!("{path}.{key}");
            if let Some(attr) = record.attrs.get(key) {
                if let Some(p) = &attr.profile {
                    if !self.profiles.contains(p) {
                        self.errors
                            .push(format!("{here}: profile {p} not in metadata.profiles"));
                    }
                }
                // These enums are generated by the schema compiler (from the class and
                // category files, and from the observable types); they are checked apart.
                let generated = matches!(key.as_str(), "class_uid" | "category_uid" | "type_uid")
                    || (record_name == "observable" && key == "type_id");
                if generated {
                    let mut open = attr.clone();
                    open.enum_keys.clear();
                    self.attribute(&here, &open, v);
                } else {
                    self.attribute(&here, attr, v);
                }
                continue;
            }
            let sibling = key
                .strip_suffix("_dt")
                .and_then(|base| record.attrs.get(base))
                .filter(|a| a.type_name == "timestamp_t");
            match sibling {
                Some(_) if self.profiles.contains("datetime") => {
                    if !v.as_str().is_some_and(is_datetime) {
                        self.errors
                            .push(format!("{here}: not an RFC 3339 datetime"));
                    }
                }
                Some(_) => self
                    .errors
                    .push(format!("{here}: datetime profile not declared")),
                None => self
                    .errors
                    .push(format!("{here}: not an attribute of {record_name}")),
            }
        }
    }

    fn attribute(&mut self, path: &str, attr: &Attr, v: &Value) {
        if attr.is_array {
            match v.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.single(&format!("{path}[{i}]"), attr, item);
                    }
                }
                None => self.errors.push(format!("{path}: not an array")),
            }
        } else {
            self.single(path, attr, v);
        }
    }

    fn single(&mut self, path: &str, attr: &Attr, v: &Value) {
        let t = attr.type_name.as_str();
        if !self.schema.is_scalar(t) {
            self.object(path, t, v);
            return;
        }
        let ok = match (t, self.schema.base_type(t)) {
            ("object", _) => v.is_object(),
            ("json_t", _) => true,
            ("ip_t", _) => v
                .as_str()
                .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
            ("datetime_t", _) => v.as_str().is_some_and(is_datetime),
            (_, "integer_t" | "long_t" | "timestamp_t") | ("integer_t" | "long_t", _) => {
                v.is_i64() || v.is_u64()
            }
            ("boolean_t", _) => v.is_boolean(),
            ("float_t", _) => v.is_number(),
            (_, "string_t") | ("string_t", _) => v.is_string(),
            _ => true,
        };
        if !ok {
            self.errors.push(format!("{path}: not a valid {t}: {v}"));
        }
        if !attr.enum_keys.is_empty() && v.is_number() {
            let n = v.as_i64().unwrap_or(i64::MIN);
            if !attr.enum_keys.contains(&n) {
                self.errors
                    .push(format!("{path}: {n} is not one of {:?}", attr.enum_keys));
            }
        }
    }
}

/// Every violation of the schema in one finding (empty when valid).
fn validate(schema: &Schema, finding: &Value) -> Vec<String> {
    let profiles = finding["metadata"]["profiles"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut checker = Checker {
        schema,
        profiles,
        errors: Vec::new(),
    };
    checker.object("$", "detection_finding", finding);
    let class: i64 = 2004;
    if finding["class_uid"].as_i64() != Some(class) {
        checker.errors.push("class_uid is not 2004".into());
    }
    if finding["category_uid"].as_i64() != Some(2) {
        checker.errors.push("category_uid is not 2".into());
    }
    let activity = finding["activity_id"].as_i64().unwrap_or(-1);
    if finding["type_uid"].as_i64() != Some(class * 100 + activity) {
        checker
            .errors
            .push("type_uid is not class_uid * 100 + activity_id".into());
    }
    if finding["metadata"]["version"].as_str() != Some("1.8.0") {
        checker.errors.push("metadata.version is not 1.8.0".into());
    }
    for (i, o) in finding["observables"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let id = o["type_id"].as_i64().unwrap_or(-1);
        if !schema.observable_ids.contains(&id) {
            checker.errors.push(format!(
                "observables[{i}].type_id {id} is no observable type"
            ));
        }
    }
    checker.errors
}

fn options() -> OcsfOptions {
    OcsfOptions {
        product_version: "0.1.0".into(),
    }
}

/// The stable places of docs/finding-schema.md hold what the finding says.
fn check_stable_places(f: &Finding, v: &Value) {
    let fi = &v["finding_info"];
    assert_eq!(fi["uid"], f.id.as_str());
    assert_eq!(fi["analytic"]["uid"], f.rule.code());
    assert_eq!(fi["analytic"]["name"], f.rule.name());
    assert_eq!(fi["title"], f.title.as_str());
    assert_eq!(fi["desc"], f.why.as_str());
    let related: Vec<&str> = fi["related_analytics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["uid"].as_str().unwrap())
        .collect();
    assert_eq!(related, f.rule.analytics());
    let attacks = fi["attacks"].as_array().unwrap();
    let tactics: Vec<&str> = attacks
        .iter()
        .map(|a| a["tactic"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(tactics, ["TA0005", "TA0008"]);
    for a in attacks {
        assert_eq!(a["technique"]["uid"], "T1550");
        assert_eq!(a["sub_technique"]["uid"], "T1550.001");
    }
    assert_eq!(v["severity_id"], f.severity.ocsf_id());
    assert_eq!(v["confidence_id"], f.confidence.ocsf_id());
    assert_eq!(v["time"], f.last_seen.micros() / 1000);
    assert_eq!(fi["first_seen_time"], f.first_seen.micros() / 1000);
    assert_eq!(fi["last_seen_time"], f.last_seen.micros() / 1000);
    assert_eq!(v["metadata"]["product"]["name"], "tokentrail");
    let actor = &v["actor"];
    let opt = |x: Option<String>| x.map_or(Value::Null, Value::String);
    assert_eq!(actor["user"]["uid"], opt(f.user_id.clone()));
    assert_eq!(actor["user"]["name"], opt(f.upn.clone()));
    assert_eq!(
        actor["session"]["uid"],
        opt(f.session_id.as_ref().map(ToString::to_string))
    );
    assert_eq!(
        actor["session"]["credential_uid"],
        opt(f.token_id.as_ref().map(ToString::to_string))
    );
    assert_eq!(actor["app_uid"], opt(f.app_id.clone()));
    let used = &v["evidences"][0];
    assert_eq!(used["name"], "use");
    assert_eq!(
        used["src_endpoint"]["ip"],
        opt(f.src_ip.map(|i| i.to_string()))
    );
    match f.network {
        Some(NetworkId::Asn(n)) => {
            assert_eq!(used["src_endpoint"]["autonomous_system"]["number"], n)
        }
        Some(prefix) => {
            assert_eq!(used["data"]["network"], prefix.to_string());
            assert_eq!(used["data"]["network_approximate"], true);
        }
        None => assert!(used["data"].get("network").is_none()),
    }
    let evidences = v["evidences"].as_array().unwrap();
    let expected = 1 + f.accesses.len() + usize::from(f.issue.is_some());
    assert_eq!(evidences.len(), expected);
    if f.issue.is_some() {
        assert_eq!(evidences[expected - 1]["name"], "issue");
    }
    match &f.suppression {
        Some(s) => {
            assert_eq!(v["status_id"], 3);
            assert_eq!(v["status"], "Suppressed");
            assert_eq!(
                v["unmapped"]["suppression"]["entry_id"],
                s.entry_id.as_str()
            );
        }
        None => assert_eq!(v["status_id"], 1),
    }
}

#[test]
fn every_emitted_finding_follows_ocsf_1_8_0() {
    let Some(dir) = schema_dir() else { return };
    let schema = Schema::load(&dir);
    for f in common::all() {
        let v = ocsf_value(&f, &options()).unwrap();
        let errors = validate(&schema, &v);
        assert!(errors.is_empty(), "{}: {errors:#?}", f.id);
        check_stable_places(&f, &v);
    }
}

#[test]
fn the_checker_catches_what_the_schema_forbids() {
    let Some(dir) = schema_dir() else { return };
    let schema = Schema::load(&dir);
    let mut v = ocsf_value(&common::tt001(), &options()).unwrap();
    v.as_object_mut().unwrap().remove("time");
    v["severity_id"] = 7.into();
    v["status_id"] = 9.into();
    v["src_endpoint"] = serde_json::json!({"ip": "192.0.2.1"});
    v["actor"]["user"] = serde_json::json!({"type_id": 1});
    v["metadata"].as_object_mut().unwrap().remove("version");
    v["finding_info"]["attacks"][0] = serde_json::json!({"version": "v18"});
    v["evidences"][0] = serde_json::json!({"name": "use"});
    v["evidences"][1]["src_endpoint"]["ip"] = "not an ip".into();
    v["metadata"]["profiles"] = serde_json::json!(["datetime"]);
    let errors = validate(&schema, &v);
    let expect = [
        "$: required time missing",
        "$.severity_id: 7 is not one of",
        "$.status_id: 9 is not one of",
        "$.src_endpoint: not an attribute of detection_finding",
        "$.actor.user: needs at least one of",
        "$.metadata: required version missing",
        "$.finding_info.attacks[0]: needs at least one of",
        "$.evidences[0]: needs at least one of",
        "$.evidences[1].src_endpoint.ip: not a valid ip_t",
        "$.actor: profile host not in metadata.profiles",
        "metadata.version is not 1.8.0",
    ];
    for e in expect {
        assert!(
            errors.iter().any(|got| got.starts_with(e)),
            "missing error {e:?} in {errors:#?}"
        );
    }
    assert_eq!(errors.len(), expect.len(), "{errors:#?}");
}
