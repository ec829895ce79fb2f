//! The bounded path of every argon2 run (sign-in checks, and the hashing of new passwords):
//! at most `workers` run at once, each in one of `workers` memory areas kept for the next run;
//! at most `queue` wait, served round-robin across source networks (IPv4 /24, IPv6 /64, where
//! one host or one attacker's addresses usually sit), each address holding at most
//! `per_address` places. Past the bound the answer is [`Busy`] (HTTP 429 with Retry-After).
//!
//! When the queue is full and a request comes from a network that has fewer waiting than the
//! network with the most, that network's newest waiter makes room (it gets [`Busy`]): a flood
//! from one network then fills only its own share, and the admin signing in from elsewhere
//! waits behind one turn per network instead of behind the flood (issue 17: 100 parallel
//! wrong sign-ins made the real admin's take 13.6 s).

use super::password::{self, HashCost, Memory};
use crate::crypto::Secret;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How much password hashing may run and wait at once.
#[derive(Clone, Copy, Debug)]
pub struct GateLimits {
    /// Argon2 runs at once (each holds one memory area: 19 MiB at the production cost).
    pub workers: usize,
    /// Checks waiting for a worker, all networks together.
    pub queue: usize,
    /// Places (running or waiting) one address may hold.
    pub per_address: usize,
}

impl Default for GateLimits {
    /// As many workers as cores (at most 8), 32 waiting, 2 per address.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        GateLimits { workers: cores.clamp(1, 8), queue: 32, per_address: 2 }
    }
}

/// Too many password checks are running or waiting; try again after `retry_after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy {
    pub retry_after: Duration,
}

/// The shared gate (cheap to clone; one per daemon, so the bound is global).
#[derive(Clone)]
pub struct PasswordGate {
    inner: Arc<Inner>,
}

struct Inner {
    limits: GateLimits,
    cost: HashCost,
    state: Mutex<State>,
    memory: Mutex<Vec<Memory>>,
    runs: AtomicU64,
    /// Moving average of one run, for the Retry-After estimate.
    run_micros: AtomicU64,
    /// The hash a check of an unknown username verifies against, made at `cost` on first use.
    decoy: std::sync::OnceLock<String>,
}

/// Requests without a known address (local callers) share one network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Network {
    V4([u8; 3]),
    V6([u8; 8]),
    Local,
}

impl Network {
    fn of(addr: Option<IpAddr>) -> Network {
        match addr.map(|a| a.to_canonical()) {
            Some(IpAddr::V4(a)) => {
                let o = a.octets();
                Network::V4([o[0], o[1], o[2]])
            }
            Some(IpAddr::V6(a)) => {
                let mut p = [0u8; 8];
                p.copy_from_slice(&a.octets()[..8]);
                Network::V6(p)
            }
            None => Network::Local,
        }
    }
}

struct Waiter {
    id: u64,
    addr: Option<IpAddr>,
    /// `true`: your turn (a worker place is now yours); `false`: evicted.
    wake: oneshot::Sender<bool>,
}

#[derive(Default)]
struct State {
    running: usize,
    queued: usize,
    next_id: u64,
    waiting: HashMap<Network, VecDeque<Waiter>>,
    /// Networks with waiters, in serving order.
    turns: VecDeque<Network>,
    places: HashMap<IpAddr, usize>,
}

impl State {
    fn release_place(&mut self, addr: Option<IpAddr>) {
        if let Some(a) = addr
            && let Some(n) = self.places.get_mut(&a)
        {
            *n -= 1;
            if *n == 0 {
                self.places.remove(&a);
            }
        }
    }

    /// Hands free worker places to waiters, one network after another.
    fn dispatch(&mut self, workers: usize) {
        while self.running < workers {
            let Some(net) = self.turns.pop_front() else { return };
            let Some(group) = self.waiting.get_mut(&net) else { continue };
            let Some(w) = group.pop_front() else { continue };
            if group.is_empty() {
                self.waiting.remove(&net);
            } else {
                self.turns.push_back(net);
            }
            self.queued -= 1;
            // The receiver lives until its ticket's drop, which takes this lock first.
            if w.wake.send(true).is_ok() {
                self.running += 1;
            } else {
                self.release_place(w.addr);
            }
        }
    }

    /// Makes room for a waiter from `net`: the newest waiter of the network with the most
    /// waiting goes, if that network has more than `net` would.
    fn evict_for(&mut self, net: Network) -> bool {
        let mine = self.waiting.get(&net).map_or(0, VecDeque::len);
        let Some((fattest, len)) =
            self.waiting.iter().map(|(n, q)| (*n, q.len())).max_by_key(|(_, len)| *len)
        else {
            return false;
        };
        if fattest == net || len <= mine + 1 {
            return false;
        }
        let group = self.waiting.get_mut(&fattest).expect("just found");
        let w = group.pop_back().expect("not empty");
        if group.is_empty() {
            self.waiting.remove(&fattest);
            self.turns.retain(|n| *n != fattest);
        }
        self.queued -= 1;
        self.release_place(w.addr);
        let _ = w.wake.send(false);
        true
    }
}

/// A place in the gate: waiting, then running; its drop gives the place back.
struct Ticket {
    inner: Arc<Inner>,
    id: u64,
    addr: Option<IpAddr>,
    net: Network,
    rx: Option<oneshot::Receiver<bool>>,
    running: bool,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut st = self.inner.state.lock().expect("gate mutex is never held across a panic");
        if !self.running {
            // Still waiting (the client went away), or woken just now: look under the lock.
            match self.rx.as_mut().map(|rx| rx.try_recv()) {
                Some(Ok(true)) => {} // it was our turn: give the worker place back below
                Some(Ok(false)) | Some(Err(oneshot::error::TryRecvError::Closed)) | None => {
                    return;
                }
                Some(Err(oneshot::error::TryRecvError::Empty)) => {
                    if let Some(group) = st.waiting.get_mut(&self.net)
                        && let Some(i) = group.iter().position(|w| w.id == self.id)
                    {
                        group.remove(i);
                        if group.is_empty() {
                            st.waiting.remove(&self.net);
                            st.turns.retain(|n| *n != self.net);
                        }
                        st.queued -= 1;
                        st.release_place(self.addr);
                    }
                    return;
                }
            }
        }
        st.running -= 1;
        st.release_place(self.addr);
        st.dispatch(self.inner.limits.workers);
    }
}

impl PasswordGate {
    pub fn new(limits: GateLimits, cost: HashCost) -> PasswordGate {
        let limits = GateLimits {
            workers: limits.workers.max(1),
            per_address: limits.per_address.max(1),
            ..limits
        };
        PasswordGate {
            inner: Arc::new(Inner {
                limits,
                cost,
                state: Mutex::new(State::default()),
                memory: Mutex::new(Vec::new()),
                runs: AtomicU64::new(0),
                run_micros: AtomicU64::new(50_000),
                decoy: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Whether `password` matches `stored` (a PHC string). With `None` (no such account) it
    /// verifies against a decoy hash of the same cost, so an unknown name costs what a wrong
    /// password does and does not reveal which accounts exist.
    pub async fn verify(
        &self,
        addr: Option<IpAddr>,
        password: Secret<String>,
        stored: Option<String>,
    ) -> Result<bool, Busy> {
        self.run(addr, move |inner, memory| {
            let target = stored.unwrap_or_else(|| {
                inner
                    .decoy
                    .get_or_init(|| {
                        let decoy = Secret::new("decoy password, never valid".to_string());
                        password::hash(&decoy, inner.cost, memory)
                    })
                    .clone()
            });
            password::verify(&password, &target, memory)
        })
        .await
    }

    /// A new PHC string for `password` at the configured cost.
    pub async fn hash(
        &self,
        addr: Option<IpAddr>,
        password: Secret<String>,
    ) -> Result<String, Busy> {
        self.run(addr, move |inner, memory| password::hash(&password, inner.cost, memory)).await
    }

    /// Argon2 runs so far (tests count them).
    pub fn runs(&self) -> u64 {
        self.inner.runs.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        addr: Option<IpAddr>,
        work: impl FnOnce(&Inner, &mut Memory) -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let ticket = self.enter(addr).await?;
        let inner = self.inner.clone();
        // The ticket moves into the blocking task: the worker place stays taken until the
        // hash is done, even if the client has gone.
        tokio::task::spawn_blocking(move || {
            let _ticket = ticket;
            let mut memory = inner
                .memory
                .lock()
                .expect("gate mutex is never held across a panic")
                .pop()
                .unwrap_or_default();
            let started = Instant::now();
            let out = work(&inner, &mut memory);
            let took = started.elapsed().as_micros() as u64;
            let avg = inner.run_micros.load(Ordering::Relaxed);
            inner.run_micros.store((avg * 7 + took) / 8, Ordering::Relaxed);
            inner.runs.fetch_add(1, Ordering::Relaxed);
            inner.memory.lock().expect("gate mutex is never held across a panic").push(memory);
            out
        })
        .await
        .map_err(|_| self.busy(0))
    }

    /// Takes a place: at once when a worker is free and nobody waits, else in the queue.
    async fn enter(&self, addr: Option<IpAddr>) -> Result<Ticket, Busy> {
        let limits = self.inner.limits;
        let net = Network::of(addr);
        let (mut ticket, rx) = {
            let mut st = self.inner.state.lock().expect("gate mutex is never held across a panic");
            if let Some(a) = addr
                && st.places.get(&a).copied().unwrap_or(0) >= limits.per_address
            {
                return Err(self.busy(st.queued));
            }
            if st.running < limits.workers && st.queued == 0 {
                st.running += 1;
                if let Some(a) = addr {
                    *st.places.entry(a).or_default() += 1;
                }
                let t =
                    Ticket { inner: self.inner.clone(), id: 0, addr, net, rx: None, running: true };
                return Ok(t);
            }
            if st.queued >= limits.queue && !st.evict_for(net) {
                return Err(self.busy(st.queued));
            }
            st.next_id += 1;
            let id = st.next_id;
            let (tx, rx) = oneshot::channel();
            let group = st.waiting.entry(net).or_default();
            group.push_back(Waiter { id, addr, wake: tx });
            if group.len() == 1 {
                st.turns.push_back(net);
            }
            st.queued += 1;
            if let Some(a) = addr {
                *st.places.entry(a).or_default() += 1;
            }
            let t = Ticket { inner: self.inner.clone(), id, addr, net, rx: None, running: false };
            (t, rx)
        };
        let rx = ticket.rx.insert(rx);
        match rx.await {
            Ok(true) => {
                ticket.running = true;
                Ok(ticket)
            }
            _ => {
                ticket.rx = None; // evicted: the place is already given back
                let queued = self.inner.state.lock().map_or(0, |s| s.queued);
                Err(self.busy(queued))
            }
        }
    }

    /// The wait until the queue ahead has drained, at least a second.
    fn busy(&self, queued: usize) -> Busy {
        let per_run = self.inner.run_micros.load(Ordering::Relaxed);
        let micros = per_run * (queued as u64 + 1) / self.inner.limits.workers as u64;
        Busy { retry_after: Duration::from_micros(micros).max(Duration::from_secs(1)) }
    }
}

#[cfg(test)]
mod tests;
