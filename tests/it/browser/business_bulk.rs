//! The devices page's Apple Business actions for a pasted list, at desktop (1440 px) and
//! phone (390 px) width: the list is checked first (what to type is shown), the send button
//! waits for the typed confirmation, the action is followed until Apple has finished with
//! each serial's outcome, and the release asks for its stronger phrase.

use super::{assert_clean, choose, log_in, wait_js};
use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn the_devices_page_sends_a_pasted_list_to_apple_business_and_follows_it() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, _) = add_token(&d, &page, "Main campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    let now = d.sim().now();
    let loose = d.sim().with_world(|w| w.add_devices(None, 3, &[], now).unwrap());
    crate::tokens_api::sync_until(&d, &page, &tid, 0).await;
    crate::business_actions::set_up_account(&d, &page).await;

    log_in(&b, &d, "admin").await;
    let steps = [
        ((1440, 900), "Assign to one of our MDM servers", vec![&loose[0], &loose[1]], "2 devices"),
        ((390, 844), "Release from the organisation", vec![&loose[2]], ""),
    ];
    for ((width, height), action, serials, phrase) in steps {
        let phrase =
            if phrase.is_empty() { format!("release {}", serials[0]) } else { phrase.to_string() };
        b.client.set_window_size(width, height).await.unwrap();
        // From another page, so that the devices page loads afresh each time.
        b.goto(&d.url("/admin/audit")).await;
        b.wait_text("#page-title", "Audit").await;
        b.goto(&d.url("/admin/devices#bulk-business")).await;
        b.wait("#bulk-business-action").await;
        wait_js(&b, "document.querySelector('#bulk-business').open", vec![], "the tool open").await;
        choose(&b, "#bulk-business-action", action).await;
        b.click("#bulk-business-source-paste").await;
        let list: Vec<&str> = serials.iter().map(|s| s.as_str()).collect();
        b.fill("#bulk-business-paste", &list.join("\n")).await;
        b.click("#bulk-business-check").await;
        b.wait_text("#bulk-business-found", &format!("{} device", serials.len())).await;
        let label = "document.querySelector('label[for=bulk-business-confirm]').textContent";
        let shown = wait_js(&b, label, vec![], "what to type").await;
        assert!(shown.as_str().unwrap().contains(&phrase), "{shown}");
        let disabled = "document.querySelector('#bulk-business-send').disabled";
        b.fill("#bulk-business-confirm", "yes").await;
        assert_eq!(wait_js(&b, disabled, vec![], "the send button").await, json!(true));
        b.fill("#bulk-business-confirm", &phrase).await;
        wait_js(&b, &format!("{disabled} === false"), vec![], "the send button enabled").await;
        b.click("#bulk-business-send").await;
        let done =
            "document.querySelector('#bulk-business-progress')?.dataset.state === 'finished'";
        wait_js(&b, done, vec![], "the action finished at Apple").await;
        b.wait_text("#bulk-business-results", "Done").await;
        let over = b
            .client
            .execute("return document.documentElement.scrollWidth - window.innerWidth", vec![])
            .await
            .unwrap();
        assert!(over.as_f64().unwrap() <= 1.0, "the page scrolls sideways at {width} px");
        assert_clean(&b, &format!("a bulk Apple Business action at {width} px")).await;
    }
    let (_, list) = page.get("/api/v1/business/actions").await;
    let actions: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|i| i["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["release", "assign"], "{list}");
    assert!(d.sim().with_world(|w| w.org_device(&loose[2]).is_none()), "released at Apple");
}
