//! Watches: a stream of `{"type": …, "object": …}` lines from a resourceVersion (replayed from
//! the kept history, or 410 Gone as an ERROR event when it is older), or from the current list
//! (synthetic ADDED events) when none is given; BOOKMARKs when asked; `timeoutSeconds`.

use crate::server::Server;
use crate::status::ApiError;
use crate::store::Event;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What a watch selects.
pub struct WatchRequest {
    /// Group and plural.
    pub group: String,
    /// Plural.
    pub plural: String,
    /// One namespace, or all.
    pub namespace: Option<String>,
    /// Which objects.
    pub filter: Box<dyn Fn(&Value) -> bool + Send + Sync>,
    /// From this resourceVersion (`None` or `0`: the current list first).
    pub since: Option<u64>,
    /// BOOKMARK events.
    pub bookmarks: bool,
    /// End after this long.
    pub timeout: Option<Duration>,
    /// apiVersion and kind to stamp objects with.
    pub api_version: String,
    /// Kind.
    pub kind: String,
}

fn line(kind: &str, object: &Value) -> String {
    format!("{}\n", json!({"type": kind, "object": object}))
}

impl WatchRequest {
    fn selects(&self, event: &Event) -> bool {
        event.key.group == self.group
            && event.key.plural == self.plural
            && self.namespace.as_ref().is_none_or(|ns| &event.key.namespace == ns)
    }

    fn stamp(&self, object: &Value) -> Value {
        let mut object = object.clone();
        object["apiVersion"] = json!(self.api_version);
        object["kind"] = json!(self.kind);
        object
    }
}

/// Starts a watch: the receiving end of its lines.
pub fn start(server: Arc<Server>, request: WatchRequest) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel(1024);
    tokio::spawn(async move {
        let (mut events, backlog, current_rv, gone) = {
            let store = server.store.lock().unwrap_or_else(|p| p.into_inner());
            let events = store.events.subscribe();
            let mut gone = false;
            let backlog: Vec<String> = match request.since {
                None | Some(0) => {
                    let rtype = store.find(&request.group, &request.plural).cloned();
                    rtype
                        .map(|rtype| {
                            store
                                .list(&rtype, request.namespace.as_deref())
                                .into_iter()
                                .filter(|o| (request.filter)(o))
                                .map(|o| line("ADDED", &o))
                                .collect()
                        })
                        .unwrap_or_default()
                }
                Some(since) => {
                    let oldest = store.history.front().map_or(store.rv + 1, |e| e.rv);
                    if since + 1 < oldest && since < store.rv {
                        gone = true;
                        let error = ApiError::gone(format!("too old resource version: {since} ({})", oldest - 1));
                        vec![line("ERROR", &error.status())]
                    } else {
                        store
                            .history
                            .iter()
                            .filter(|e| e.rv > since && request.selects(e) && (request.filter)(&e.object))
                            .map(|e| line(e.kind, &request.stamp(&e.object)))
                            .collect()
                    }
                }
            };
            (events, backlog, store.rv, gone)
        };
        for item in backlog {
            if sender.send(item).await.is_err() {
                return;
            }
        }
        if gone {
            return;
        }
        let mut last_rv = current_rv;
        let deadline = request.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut drops = server.faults.drop_watches.subscribe();
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            let sleep_until = deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400));
            tokio::select! {
                _ = tokio::time::sleep_until(sleep_until) => return,
                _ = drops.recv() => return,
                _ = ticker.tick(), if request.bookmarks => {
                    let bookmark = json!({
                        "apiVersion": request.api_version,
                        "kind": request.kind,
                        "metadata": {"resourceVersion": last_rv.to_string()},
                    });
                    if sender.send(line("BOOKMARK", &bookmark)).await.is_err() {
                        return;
                    }
                }
                event = events.recv() => {
                    let event = match event {
                        Ok(event) => event,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            let error = ApiError::gone("the watch fell behind; start again from a list");
                            let _ = sender.send(line("ERROR", &error.status())).await;
                            return;
                        }
                        Err(_) => return,
                    };
                    last_rv = event.rv;
                    if request.selects(&event) && (request.filter)(&event.object)
                        && sender.send(line(event.kind, &request.stamp(&event.object))).await.is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    receiver
}
