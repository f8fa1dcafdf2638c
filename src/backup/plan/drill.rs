//! Restore drills: the scratch copy of a stack's compose file (no ports, no
//! proxy, its own volume names) and Docker's names for a stack's volumes,
//! live and in that copy, so a drill never touches a live volume.

use std::collections::BTreeMap;

use anyhow::{anyhow, Context, Result};
use serde_yaml::{Mapping, Value};

/// Docker's names for a stack's volumes, live and in the drill copy:
/// `<project>_<key>` (`<project>-drill_<key>`), or the `name:` the compose
/// file gives (`<name>-drill`).
#[derive(Debug, Clone, Default)]
pub struct VolumeNames {
    pub live: BTreeMap<String, String>,
    pub drill: BTreeMap<String, String>,
}

pub fn volume_names(project: &str, compose: Option<&str>) -> VolumeNames {
    let doc: Value = compose
        .and_then(|c| serde_yaml::from_str(c).ok())
        .unwrap_or(Value::Null);
    let mut n = VolumeNames::default();
    if let Some(Value::Mapping(vols)) = doc.get("volumes") {
        for (k, v) in vols {
            let Some(k) = k.as_str() else { continue };
            match v.get("name").and_then(Value::as_str) {
                Some(name) => {
                    n.live.insert(k.into(), name.into());
                    n.drill.insert(k.into(), format!("{name}-drill"));
                }
                None => {
                    n.live.insert(k.into(), format!("{project}_{k}"));
                    n.drill.insert(k.into(), format!("{project}-drill_{k}"));
                }
            }
        }
    }
    n
}

impl VolumeNames {
    pub(super) fn live(&self, project: &str, key: &str) -> String {
        self.live
            .get(key)
            .cloned()
            .unwrap_or_else(|| format!("{project}_{key}"))
    }
    pub(super) fn drill(&self, project: &str, key: &str) -> String {
        self.drill
            .get(key)
            .cloned()
            .unwrap_or_else(|| format!("{project}-drill_{key}"))
    }
}

/// A scratch copy of a stack's compose file for restore drills: no
/// published ports, no external networks (so not behind the proxy), only
/// internal networks (no way out: a restored mail queue is not sent
/// again, an app sends no notification), no fixed subnets or addresses
/// (they would clash with the live stack's), network names of its own,
/// no fixed container names,
/// never restarted, labelled `regie.drill`.
pub fn drill_compose(compose: &str) -> Result<String> {
    let mut doc: Value = serde_yaml::from_str(compose).context("parsing the compose file")?;
    let top = doc
        .as_mapping_mut()
        .ok_or_else(|| anyhow!("compose file is not a mapping"))?;
    let mut external = Vec::new();
    if let Some(Value::Mapping(nets)) = top.get_mut("networks") {
        for (k, v) in nets.iter() {
            if v.get("external").and_then(Value::as_bool) == Some(true) {
                if let Some(k) = k.as_str() {
                    external.push(k.to_string());
                }
            }
        }
        for k in &external {
            nets.remove(k.as_str());
        }
        for (_, v) in nets.iter_mut() {
            if !v.is_mapping() {
                *v = Value::Mapping(Mapping::new());
            }
            let m = v.as_mapping_mut().expect("a mapping");
            m.remove("ipam");
            m.insert("internal".into(), true.into());
            // A network with a fixed name (the proxy's) gets its own drill
            // name: the drill never joins, nor trips over, the live one.
            if let Some(name) = m.get("name").and_then(Value::as_str).map(String::from) {
                m.insert("name".into(), format!("{name}-drill").into());
            }
        }
    }
    let mut uses_default = false;
    // Volumes with a fixed name get their own drill name: a drill never
    // touches a live volume.
    if let Some(Value::Mapping(vols)) = top.get_mut("volumes") {
        for (_, v) in vols.iter_mut() {
            let Some(m) = v.as_mapping_mut() else {
                continue;
            };
            if m.get("external").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(name) = m.get("name").and_then(Value::as_str).map(String::from) {
                m.insert("name".into(), format!("{name}-drill").into());
            }
        }
    }
    if let Some(Value::Mapping(services)) = top.get_mut("services") {
        for (_, svc) in services.iter_mut() {
            let Some(m) = svc.as_mapping_mut() else {
                continue;
            };
            // Without `restart`, compose never restarts the scratch stack.
            for k in [
                "ports",
                "container_name",
                "hostname",
                "domainname",
                "restart",
            ] {
                m.remove(k);
            }
            match m.get_mut("networks") {
                Some(Value::Sequence(list)) => {
                    list.retain(|n| n.as_str().is_none_or(|n| !external.iter().any(|e| e == n)))
                }
                Some(Value::Mapping(map)) => {
                    for e in &external {
                        map.remove(e.as_str());
                    }
                    for (_, n) in map.iter_mut() {
                        if let Some(n) = n.as_mapping_mut() {
                            n.remove("ipv4_address");
                            n.remove("ipv6_address");
                        }
                    }
                }
                _ => {}
            }
            if matches!(m.get("networks"), Some(Value::Sequence(l)) if l.is_empty())
                || matches!(m.get("networks"), Some(Value::Mapping(l)) if l.is_empty())
            {
                m.remove("networks");
            }
            if !m.contains_key("networks") && !m.contains_key("network_mode") {
                uses_default = true;
            }
            match m.get_mut("labels") {
                Some(Value::Mapping(l)) => {
                    l.insert("regie.drill".into(), "true".into());
                }
                Some(Value::Sequence(l)) => l.push("regie.drill=true".into()),
                _ => {
                    let mut l = Mapping::new();
                    l.insert("regie.drill".into(), "true".into());
                    m.insert("labels".into(), Value::Mapping(l));
                }
            }
        }
    }
    // Services on no named network are on compose's `default` one.
    if uses_default {
        let nets = top
            .entry("networks".into())
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if !nets.is_mapping() {
            *nets = Value::Mapping(Mapping::new());
        }
        let mut d = Mapping::new();
        d.insert("internal".into(), true.into());
        nets.as_mapping_mut()
            .expect("a mapping")
            .insert("default".into(), Value::Mapping(d));
    }
    // Written as JSON (which YAML parsers read): every string stays quoted,
    // so YAML 1.1 readers such as compose v1 never take `on` or `no` for
    // booleans.
    let text = serde_json::to_string_pretty(&doc)?;
    Ok(format!(
        "# Restore drill copy of this stack (scratch project, no ports, no proxy).\n{text}\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drill_copy_has_no_ports_no_proxy_and_a_label() {
        let c = r#"
services:
  app:
    image: x
    ports: ["80:80"]
    container_name: fixed
    restart: unless-stopped
    networks: [backend, proxy]
    labels:
      regie.site: s
  db:
    image: y
    networks:
      backend: {}
      proxy: { aliases: [db] }
volumes:
  data:
  certs:
    name: s_proxy_data
  shared:
    external: true
    name: s_shared
networks:
  backend:
    internal: true
  proxy:
    external: true
    name: s_proxy
"#;
        let d = drill_compose(c).unwrap();
        let v: Value = serde_yaml::from_str(&d).unwrap();
        let app = &v["services"]["app"];
        assert!(app.get("ports").is_none());
        assert!(app.get("container_name").is_none());
        assert!(app.get("restart").is_none());
        assert_eq!(
            app["networks"],
            serde_yaml::from_str::<Value>("[backend]").unwrap()
        );
        assert_eq!(app["labels"]["regie.drill"], Value::from("true"));
        assert_eq!(app["labels"]["regie.site"], Value::from("s"));
        assert!(v["services"]["db"]["networks"].get("proxy").is_none());
        assert!(v["networks"].get("proxy").is_none());
        assert!(v["networks"].get("backend").is_some());
        assert!(v["volumes"].get("data").is_some());
        assert_eq!(
            v["volumes"]["certs"]["name"],
            Value::from("s_proxy_data-drill")
        );
        assert_eq!(v["volumes"]["shared"]["name"], Value::from("s_shared"));
        let n = volume_names("s-x", Some(c));
        assert_eq!(n.live["data"], "s-x_data");
        assert_eq!(n.drill["data"], "s-x-drill_data");
        assert_eq!(n.live["certs"], "s_proxy_data");
        assert_eq!(n.drill["certs"], "s_proxy_data-drill");
    }

    #[test]
    fn drill_networks_are_internal_without_fixed_addresses() {
        let c = r#"
services:
  mailserver:
    image: x
    networks: { backend: { aliases: [mail.x.fr] } }
  webmail:
    image: y
    networks:
      backend: { ipv4_address: 172.31.253.2 }
      proxy: {}
  certs:
    image: x
    network_mode: none
networks:
  backend:
    ipam: { config: [{ subnet: 172.31.253.0/24 }] }
  proxy: { external: true, name: s_proxy }
"#;
        let v: Value = serde_yaml::from_str(&drill_compose(c).unwrap()).unwrap();
        assert_eq!(v["networks"]["backend"]["internal"], Value::from(true));
        assert!(v["networks"]["backend"].get("ipam").is_none());
        assert!(v["services"]["webmail"]["networks"]["backend"]
            .get("ipv4_address")
            .is_none());
        assert_eq!(
            v["services"]["mailserver"]["networks"]["backend"]["aliases"][0],
            Value::from("mail.x.fr")
        );
        // Every service is on a named network or none: no default network.
        assert!(v["networks"].get("default").is_none());
        // A fixed network name (the proxy's own network) gets a drill name.
        let c = "services:\n  caddy:\n    image: x\n    networks: [proxy]\nnetworks:\n  proxy: { name: s_proxy }\n";
        let v: Value = serde_yaml::from_str(&drill_compose(c).unwrap()).unwrap();
        assert_eq!(v["networks"]["proxy"]["name"], Value::from("s_proxy-drill"));
        assert_eq!(v["networks"]["proxy"]["internal"], Value::from(true));
        assert!(v["networks"].get("default").is_none());
        // A service left on no network is on compose's default one, made
        // internal too.
        let c = "services:\n  app:\n    image: x\n    networks: [proxy]\nnetworks:\n  proxy: { external: true }\n";
        let v: Value = serde_yaml::from_str(&drill_compose(c).unwrap()).unwrap();
        assert!(v["services"]["app"].get("networks").is_none());
        assert_eq!(v["networks"]["default"]["internal"], Value::from(true));
    }
}
