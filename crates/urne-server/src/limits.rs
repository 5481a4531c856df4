//! Who the client is, and how much of the board one client may take: rate limits
//! (GCRA, `governor`), requests in flight per client, and separate concurrency
//! budgets for reads, writes and heavy reads so that one kind cannot starve another.
//! Client keys are kept in memory only and never logged.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::ServerConfig;

/// The unit limits count by: an IPv4 address, or the /64 of an IPv6 address (one
/// customer usually holds a whole /64, so per-address limits would be free to evade).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey(IpAddr);

impl ClientKey {
    pub(crate) fn of(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(v4) => Self(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Self(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }
}

/// The client's address: the TCP peer, unless the peer is a configured proxy, in which
/// case the nearest address its forwarding headers name that is not itself a trusted
/// proxy. `Forwarded` (RFC 7239) is preferred over `X-Forwarded-For`.
pub(crate) fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    // Walk from the nearest hop back: the first one no trusted proxy vouches for is the
    // client; anything further left was written by the client itself.
    for hop in hops.iter().rev() {
        match hop {
            Some(address) if trusted.contains(address) => continue,
            Some(address) => return *address,
            None => return peer,
        }
    }
    peer
}

/// The addresses of every hop the forwarding headers list, oldest first; `None` for a
/// hop whose address cannot be read (obfuscated, `unknown`, garbage).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_node(value.trim()))
            })?
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|item| item.trim().parse().ok())
        .collect()
}

/// An RFC 7239 node: `192.0.2.1`, `"192.0.2.1:80"`, `"[2001:db8::1]:80"`.
fn parse_node(value: &str) -> Option<IpAddr> {
    let value = value.trim_matches('"');
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    value
        .parse()
        .ok()
        .or_else(|| value.rsplit_once(':')?.0.parse().ok())
}

/// Per-client rate limits, one quota for writes and one for reads.
pub(crate) struct RateLimits {
    writes: Option<DefaultKeyedRateLimiter<ClientKey>>,
    reads: Option<DefaultKeyedRateLimiter<ClientKey>>,
}

fn limiter(per_second: u32, burst: u32) -> Option<DefaultKeyedRateLimiter<ClientKey>> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    Some(RateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    ))
}

impl RateLimits {
    pub(crate) fn new(config: &ServerConfig) -> Self {
        Self {
            writes: limiter(config.writes_per_second, config.write_burst),
            reads: limiter(config.reads_per_second, config.read_burst),
        }
    }

    /// Takes one request from `client`'s quota for `class`; false when it is spent.
    pub(crate) fn allow(&self, class: RouteClass, client: ClientKey) -> bool {
        let limiter = match class {
            RouteClass::Write => &self.writes,
            RouteClass::Read | RouteClass::Heavy => &self.reads,
        };
        limiter
            .as_ref()
            .is_none_or(|l| l.check_key(&client).is_ok())
    }

    /// Forgets clients whose buckets are full again, so memory follows live clients.
    pub(crate) fn forget_idle(&self) {
        for l in [&self.writes, &self.reads].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// Which budget a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RouteClass {
    Read,
    Write,
    Heavy,
}

impl RouteClass {
    /// The class of a request from its method, route template (axum's matched path)
    /// and path: hash tiles and entry bundles share one route but not one cost.
    pub(crate) fn of(method: &Method, route: &str, path: &str) -> Self {
        if method == Method::POST {
            return Self::Write;
        }
        match route {
            "/v1/entries" | "/v1/contexts" => Self::Heavy,
            r if crate::public::HEAVY.contains(&r) => Self::Heavy,
            "/tile/{*rest}" if path.starts_with("/tile/entries/") => Self::Heavy,
            _ => Self::Read,
        }
    }
}

/// Concurrency budgets: one for everything, one per route class.
pub(crate) struct Budgets {
    all: Arc<Semaphore>,
    reads: Arc<Semaphore>,
    writes: Arc<Semaphore>,
    heavy: Arc<Semaphore>,
}

/// Held while a request runs; gives its budget back when dropped.
pub(crate) struct Admitted {
    _all: OwnedSemaphorePermit,
    _class: OwnedSemaphorePermit,
}

impl Budgets {
    pub(crate) fn new(config: &ServerConfig) -> Self {
        Self {
            all: Arc::new(Semaphore::new(config.max_concurrent)),
            reads: Arc::new(Semaphore::new(config.max_concurrent_reads)),
            writes: Arc::new(Semaphore::new(config.max_concurrent_writes)),
            heavy: Arc::new(Semaphore::new(config.max_concurrent_heavy)),
        }
    }

    /// A slot in the global budget and in `class`'s, or `None` (shed the request).
    pub(crate) fn admit(&self, class: RouteClass) -> Option<Admitted> {
        let class_budget = match class {
            RouteClass::Read => &self.reads,
            RouteClass::Write => &self.writes,
            RouteClass::Heavy => &self.heavy,
        };
        let class = Arc::clone(class_budget).try_acquire_owned().ok()?;
        let all = Arc::clone(&self.all).try_acquire_owned().ok()?;
        Some(Admitted {
            _all: all,
            _class: class,
        })
    }
}

/// Requests in flight per client.
pub(crate) struct InFlight {
    cap: usize,
    counts: Arc<Mutex<HashMap<ClientKey, usize>>>,
}

/// One request counted against its client until dropped.
pub(crate) struct InFlightGuard {
    client: ClientKey,
    counts: Arc<Mutex<HashMap<ClientKey, usize>>>,
}

impl InFlight {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            counts: Arc::default(),
        }
    }

    /// Counts one more request for `client`, or `None` when it already has `cap`.
    pub(crate) fn enter(&self, client: ClientKey) -> Option<InFlightGuard> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(client).or_insert(0);
        if *count >= self.cap {
            if *count == 0 {
                counts.remove(&client);
            }
            return None;
        }
        *count += 1;
        Some(InFlightGuard {
            client,
            counts: Arc::clone(&self.counts),
        })
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_client_gets_its_burst_then_is_limited_and_others_are_not() {
        let limits = RateLimits::new(&ServerConfig {
            writes_per_second: 1,
            write_burst: 3,
            ..ServerConfig::default()
        });
        let a = ClientKey::of(ip("192.0.2.1"));
        let b = ClientKey::of(ip("192.0.2.2"));
        assert!((0..3).all(|_| limits.allow(RouteClass::Write, a)));
        assert!(!limits.allow(RouteClass::Write, a));
        assert!(limits.allow(RouteClass::Write, b));
        assert!(
            limits.allow(RouteClass::Read, a),
            "reads have their own quota"
        );
        let unlimited = RateLimits::new(&ServerConfig {
            writes_per_second: 0,
            ..ServerConfig::default()
        });
        assert!((0..10_000).all(|_| unlimited.allow(RouteClass::Write, a)));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a = ClientKey::of(ip("2001:db8:1:2:aaaa::1"));
        let same_64 = ClientKey::of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        let other_64 = ClientKey::of(ip("2001:db8:1:3::1"));
        assert_eq!(a, same_64);
        assert_ne!(a, other_64);
        assert_eq!(
            ClientKey::of(ip("::ffff:192.0.2.7")),
            ClientKey::of(ip("192.0.2.7"))
        );
        let limits = RateLimits::new(&ServerConfig {
            writes_per_second: 1,
            write_burst: 2,
            ..ServerConfig::default()
        });
        assert!(limits.allow(RouteClass::Write, a));
        assert!(limits.allow(RouteClass::Write, same_64));
        assert!(
            !limits.allow(RouteClass::Write, a),
            "a new address in the same /64 is the same client"
        );
        assert!(limits.allow(RouteClass::Write, other_64));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let proxy = ip("10.0.0.1");
        let trusted = [proxy];
        let xff = headers(&[("x-forwarded-for", "198.51.100.9")]);
        assert_eq!(client_address(proxy, &xff, &trusted), ip("198.51.100.9"));
        assert_eq!(
            client_address(ip("203.0.113.5"), &xff, &trusted),
            ip("203.0.113.5"),
            "a client that is not a proxy cannot choose its address"
        );
        assert_eq!(client_address(proxy, &xff, &[]), proxy);
        // The client wrote the left part; the proxy appended the right.
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.9")]);
        assert_eq!(
            client_address(proxy, &spoofed, &trusted),
            ip("198.51.100.9")
        );
        let chain = headers(&[("x-forwarded-for", "198.51.100.9, 10.0.0.2")]);
        assert_eq!(
            client_address(proxy, &chain, &[proxy, ip("10.0.0.2")]),
            ip("198.51.100.9")
        );
        let forwarded = headers(&[(
            "forwarded",
            "for=1.2.3.4, for=\"[2001:db8::7]:4711\";proto=https",
        )]);
        assert_eq!(
            client_address(proxy, &forwarded, &trusted),
            ip("2001:db8::7")
        );
        let unknown = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_address(proxy, &unknown, &trusted), proxy);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &trusted), proxy);
    }

    #[test]
    fn a_client_at_its_in_flight_cap_waits_for_one_to_finish() {
        let in_flight = InFlight::new(2);
        let a = ClientKey::of(ip("192.0.2.1"));
        let first = in_flight.enter(a).unwrap();
        let _second = in_flight.enter(a).unwrap();
        assert!(in_flight.enter(a).is_none());
        assert!(in_flight.enter(ClientKey::of(ip("192.0.2.2"))).is_some());
        drop(first);
        assert!(in_flight.enter(a).is_some());
    }

    #[test]
    fn each_class_has_its_own_budget() {
        let budgets = Budgets::new(&ServerConfig {
            max_concurrent_writes: 1,
            ..ServerConfig::default()
        });
        let _write = budgets.admit(RouteClass::Write).unwrap();
        assert!(budgets.admit(RouteClass::Write).is_none());
        assert!(budgets.admit(RouteClass::Read).is_some());
        assert!(budgets.admit(RouteClass::Heavy).is_some());
    }
}
