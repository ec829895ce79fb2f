//! The devices page's Apple Business actions for many devices, at desktop (1440 px) and
//! phone (390 px) width, from a pasted list and from a CSV file chosen in the file picker:
//! the list is checked first (how many devices, the rows left out, what to type), the send
//! button waits for the typed confirmation, the action is followed until Apple has finished
//! with each serial's outcome shown, and the release asks for its stronger phrase.

use super::harness::Browser;
use super::{assert_clean, choose, log_in, wait_js};
use crate::business_world::{World, world};
use serde_json::json;

/// Where the bulk tool reads the serials from.
enum Source<'a> {
    Paste(&'a [&'a String]),
    /// A CSV file on disk, as an admin's spreadsheet exports it.
    File(&'a std::path::Path),
}

/// One bulk action on the devices page at `width` px: check, confirm with `phrase`, send,
/// follow to the end; `serials` are the devices the list names, each of whose outcomes must
/// show.
async fn bulk_action(
    b: &Browser,
    w: &World,
    (width, height): (u32, u32),
    action: &str,
    source: Source<'_>,
    phrase: &str,
    serials: &[&String],
) {
    b.client.set_window_size(width, height).await.unwrap();
    // From another page, so that the devices page loads afresh each time.
    b.goto(&w.d.url("/admin/audit")).await;
    b.wait_text("#page-title", "Audit").await;
    b.goto(&w.d.url("/admin/devices#bulk-business")).await;
    b.wait("#bulk-business-action").await;
    wait_js(b, "document.querySelector('#bulk-business').open", vec![], "the tool open").await;
    choose(b, "#bulk-business-action", action).await;
    let from_file = matches!(source, Source::File(_));
    match source {
        Source::Paste(list) => {
            b.click("#bulk-business-source-paste").await;
            let list: Vec<&str> = list.iter().map(|s| s.as_str()).collect();
            b.fill("#bulk-business-paste", &list.join("\n")).await;
        }
        Source::File(path) => {
            let picked = "document.querySelector('#bulk-business-source-file').checked";
            assert_eq!(wait_js(b, picked, vec![], "a file by default").await, json!(true));
            let input = b.wait("#bulk-business-file").await;
            input.send_keys(path.to_str().unwrap()).await.unwrap();
            let read = "document.querySelector('#bulk-business-check').disabled === false";
            wait_js(b, read, vec![], "the file read").await;
        }
    }
    b.click("#bulk-business-check").await;
    let found = serials.len();
    let plural = if found == 1 { "device" } else { "devices" };
    b.wait_text("#bulk-business-found", &format!("{found} {plural}")).await;
    if from_file {
        // The file's row without a serial is named as left out.
        b.wait_text("#bulk-business-found", "1 row without a serial number is left out").await;
    }
    let label = "document.querySelector('label[for=bulk-business-confirm]').textContent";
    let shown = wait_js(b, label, vec![], "what to type").await;
    assert!(shown.as_str().unwrap().contains(phrase), "{shown}");
    let disabled = "document.querySelector('#bulk-business-send').disabled";
    b.fill("#bulk-business-confirm", "yes").await;
    assert_eq!(wait_js(b, disabled, vec![], "the send button").await, json!(true));
    b.fill("#bulk-business-confirm", phrase).await;
    wait_js(b, &format!("{disabled} === false"), vec![], "the send button enabled").await;
    b.click("#bulk-business-send").await;
    let done = "document.querySelector('#bulk-business-progress')?.dataset.state === 'finished'";
    wait_js(b, done, vec![], "the action finished at Apple").await;
    b.wait_text("#bulk-business-results", "Done").await;
    let results = b.text("#bulk-business-results").await;
    for s in serials {
        assert!(results.contains(s.as_str()), "{s}'s outcome is shown: {results}");
    }
    super::business::fits(b, &format!("the devices page at {width} px")).await;
    assert_clean(b, &format!("a bulk Apple Business action at {width} px")).await;
}

fn actions(list: &serde_json::Value) -> Vec<&str> {
    list["items"].as_array().unwrap().iter().map(|i| i["action"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_devices_page_sends_a_pasted_list_to_apple_business_and_follows_it() {
    let Some(b) = super::harness::start().await else { return };
    let w = world(3, 0).await;
    let loose = &w.loose;
    log_in(&b, &w.d, "admin").await;
    let assign = "Assign to one of our MDM servers";
    let two = [&loose[0], &loose[1]];
    bulk_action(&b, &w, (1440, 900), assign, Source::Paste(&two), "2 devices", &two).await;
    let one = [&loose[2]];
    let phrase = format!("release {}", loose[2]);
    let release = "Release from the organisation";
    bulk_action(&b, &w, (390, 844), release, Source::Paste(&one), &phrase, &one).await;
    let (_, list) = w.page.get("/api/v1/business/actions").await;
    assert_eq!(actions(&list), ["release", "assign"], "{list}");
    assert!(w.d.sim().with_world(|x| x.org_device(&loose[2]).is_none()), "released at Apple");
}

#[tokio::test]
async fn the_devices_page_sends_a_csv_file_to_apple_business_and_follows_it() {
    let Some(b) = super::harness::start().await else { return };
    let w = world(2, 2).await;
    let (loose, theirs) = (&w.loose, &w.theirs);
    let dir = tempfile::tempdir().unwrap();
    // A spreadsheet's export: a header, a name column, a row without a serial.
    let file = |name: &str, serials: &[&String]| {
        let mut csv = "name,serial number\n".to_string();
        for (i, s) in serials.iter().enumerate() {
            csv.push_str(&format!("Lab {i},{s}\n"));
        }
        csv.push_str("Spare,not a serial!\n");
        let path = dir.path().join(name);
        std::fs::write(&path, csv).unwrap();
        path
    };
    log_in(&b, &w.d, "admin").await;
    let assign = "Assign to one of our MDM servers";
    let ours = [&loose[0], &loose[1]];
    let path = file("new-ipads.csv", &ours);
    bulk_action(&b, &w, (1440, 900), assign, Source::File(&path), "2 devices", &ours).await;
    let migrate = "Schedule a migration to one of our MDM servers";
    let moving = [&theirs[0], &theirs[1]];
    let path = file("moving.csv", &moving);
    bulk_action(&b, &w, (390, 844), migrate, Source::File(&path), "2 devices", &moving).await;

    let (_, list) = w.page.get("/api/v1/business/actions").await;
    assert_eq!(actions(&list), ["migrate", "assign"], "{list}");
    for item in list["items"].as_array().unwrap() {
        let outcomes: Vec<&str> = item["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["done", "done"], "{item}");
    }
    assert!(list["items"][0]["deadline"].is_string(), "the picked deadline: {list}");
}
