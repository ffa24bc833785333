//! Per-IP limits for the widget: new visitors and messages per minute, and open
//! connections. Over a limit the widget gets a clear refusal; everyone else is served.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::config::Widget;

#[derive(Default)]
struct Window {
    minute: i64,
    count: u32,
}

pub struct WidgetLimits {
    new_visitors_per_minute: u32,
    messages_per_minute: u32,
    connections_per_ip: u32,
    new_visitors: Mutex<HashMap<IpAddr, Window>>,
    messages: Mutex<HashMap<IpAddr, Window>>,
    connections: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

/// Holds one of an IP's connection slots until dropped.
pub struct ConnectionSlot {
    ip: IpAddr,
    connections: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut map = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

fn hit(map: &Mutex<HashMap<IpAddr, Window>>, ip: IpAddr, limit: u32, now_ms: i64) -> bool {
    let minute = now_ms / 60_000;
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() > 100_000 {
        map.retain(|_, w| w.minute == minute);
    }
    let w = map.entry(ip).or_default();
    if w.minute != minute {
        *w = Window { minute, count: 0 };
    }
    if w.count >= limit {
        return false;
    }
    w.count += 1;
    true
}

impl WidgetLimits {
    pub fn new(c: &Widget) -> Self {
        Self {
            new_visitors_per_minute: c.new_visitors_per_minute,
            messages_per_minute: c.messages_per_minute,
            connections_per_ip: c.connections_per_ip,
            new_visitors: Mutex::default(),
            messages: Mutex::default(),
            connections: Arc::default(),
        }
    }

    /// Counts a new visitor from `ip`; false when over the limit.
    pub fn new_visitor(&self, ip: IpAddr, now_ms: i64) -> bool {
        hit(&self.new_visitors, ip, self.new_visitors_per_minute, now_ms)
    }

    /// Counts a message from `ip`; false when over the limit.
    pub fn message(&self, ip: IpAddr, now_ms: i64) -> bool {
        hit(&self.messages, ip, self.messages_per_minute, now_ms)
    }

    /// Takes a connection slot for `ip`, if it has one left.
    pub fn connect(&self, ip: IpAddr) -> Option<ConnectionSlot> {
        let mut map = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_insert(0);
        if *n >= self.connections_per_ip {
            return None;
        }
        *n += 1;
        Some(ConnectionSlot { ip, connections: self.connections.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_reset_each_minute_and_slots_free_on_drop() {
        let l =
            WidgetLimits::new(&Widget { new_visitors_per_minute: 2, messages_per_minute: 1, connections_per_ip: 1 });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(l.new_visitor(ip, 0) && l.new_visitor(ip, 1));
        assert!(!l.new_visitor(ip, 2));
        assert!(l.new_visitor(ip, 60_000));
        assert!(l.message(ip, 0) && !l.message(ip, 0));
        let slot = l.connect(ip);
        assert!(slot.is_some() && l.connect(ip).is_none());
        drop(slot);
        assert!(l.connect(ip).is_some());
    }
}
