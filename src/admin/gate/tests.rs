//! The gate's bounds and its fairness across networks.

use super::*;
use std::sync::Mutex as StdMutex;

fn gate(workers: usize, queue: usize, per_address: usize) -> PasswordGate {
    PasswordGate::new(GateLimits { workers, queue, per_address }, HashCost::TESTING)
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn pw() -> Secret<String> {
    Secret::new("a wrong password".into())
}

fn queued(g: &PasswordGate) -> usize {
    g.inner.state.lock().unwrap().queued
}

async fn until(mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("condition not reached");
}

#[tokio::test]
async fn a_flood_from_one_network_cannot_starve_another() {
    let g = gate(1, 4, 1);
    let hold = g.enter(ip("192.0.2.250")).await.unwrap();
    // `done`: answers as the callers see them; `served`: the order the gate ran the checks in
    // (recorded inside the check, which holds the one worker place: a caller may see its answer
    // after the next check already ran, so `done` does not tell the gate's order).
    let done = Arc::new(StdMutex::new(Vec::new()));
    let served = Arc::new(StdMutex::new(Vec::new()));
    let check = |served: Arc<StdMutex<Vec<String>>>, name: String| {
        move |_: &Inner, _: &mut Memory| {
            served.lock().unwrap().push(name);
            false
        }
    };
    let mut tasks = Vec::new();
    for i in 1..=10 {
        let (g2, done2) = (g.clone(), done.clone());
        let work = check(served.clone(), format!("flood {i}"));
        tasks.push(tokio::spawn(async move {
            let r = g2.run(ip(&format!("192.0.2.{i}")), work).await;
            done2.lock().unwrap().push(format!("flood {i}"));
            r
        }));
        // In order: the queue fills with the first four.
        until(|| done.lock().unwrap().len() + queued(&g) == i).await;
    }
    assert_eq!(queued(&g), 4, "the queue is bounded");
    let admin = {
        let (g, done) = (g.clone(), done.clone());
        let work = check(served.clone(), "admin".into());
        tokio::spawn(async move {
            let r = g.run(ip("198.51.100.7"), work).await;
            done.lock().unwrap().push("admin".into());
            r
        })
    };
    // The admin's network had nobody waiting: the flood's newest waiter made room.
    until(|| done.lock().unwrap().iter().filter(|d| d.starts_with("flood")).count() == 7).await;
    assert_eq!(queued(&g), 4);
    drop(hold);
    assert_eq!(admin.await.unwrap(), Ok(false));
    let mut busy = 0;
    for t in tasks {
        if let Err(b) = t.await.unwrap() {
            assert!(b.retry_after >= Duration::from_secs(1));
            busy += 1;
        }
    }
    assert_eq!(busy, 7, "six refused at the door, one evicted for the admin");
    let served = served.lock().unwrap().clone();
    assert_eq!(served.len(), 4, "three of the flood and the admin were checked: {served:?}");
    assert!(
        served.iter().position(|d| *d == "admin") <= Some(1),
        "the admin waits behind one turn of the flood's network, not behind the flood: {served:?}"
    );
    assert_eq!(g.runs(), 4);
}

#[tokio::test]
async fn one_address_holds_at_most_its_places() {
    let g = gate(1, 8, 1);
    let hold = g.enter(ip("192.0.2.1")).await.unwrap();
    assert!(g.enter(ip("192.0.2.1")).await.is_err(), "one place per address");
    let other = tokio::spawn({
        let g = g.clone();
        async move { g.verify(ip("192.0.2.2"), pw(), None).await }
    });
    until(|| queued(&g) == 1).await;
    drop(hold);
    assert_eq!(other.await.unwrap(), Ok(false));
    assert!(g.enter(ip("192.0.2.1")).await.is_ok(), "the place came back");
}

#[tokio::test]
async fn a_waiter_that_goes_away_gives_its_place_back() {
    let g = gate(1, 8, 1);
    let hold = g.enter(ip("192.0.2.1")).await.unwrap();
    let waiting = tokio::spawn({
        let g = g.clone();
        async move { g.verify(ip("192.0.2.2"), pw(), None).await }
    });
    until(|| queued(&g) == 1).await;
    waiting.abort();
    let _ = waiting.await;
    assert_eq!(queued(&g), 0);
    drop(hold);
    let st = g.inner.state.lock().unwrap();
    assert_eq!((st.running, st.places.len()), (0, 0), "nothing leaked");
}

#[tokio::test]
async fn many_checks_share_as_many_memory_areas_as_workers() {
    let g = gate(2, 64, 2);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let g = g.clone();
        tasks.push(tokio::spawn(
            async move { g.verify(ip(&format!("10.{i}.0.1")), pw(), None).await },
        ));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), Ok(false));
    }
    assert_eq!(g.runs(), 40);
    assert!(g.inner.memory.lock().unwrap().len() <= 2, "memory is reused, not allocated per run");
    let h = g.hash(None, Secret::new("correct horse battery".into())).await.unwrap();
    let ok = g.verify(ip("10.0.0.1"), Secret::new("correct horse battery".into()), Some(h));
    assert_eq!(ok.await, Ok(true));
}
