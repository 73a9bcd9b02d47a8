//! Documents in the real window: a real PDF dragged onto the Documents view, read page by page
//! with the tiny Idefics3 checkpoint (text streaming in, progress, every page done), exported
//! through the native save dialog, and a damaged PDF refused in plain words while the app
//! keeps going.

use std::time::Duration;

use crate::{SERIAL, fixtures, launch, open_view_with_model, prepare_data_dir, screenshot};

/// The number in a page row's status ("1,024 tokens", "Reading… 3 tokens").
fn tokens_in(status: &str) -> Option<u64> {
    let digits: String = status
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[test]
fn a_pdf_dropped_on_documents_is_read_page_by_page_and_a_damaged_one_is_refused() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let data = std::env::temp_dir().join(format!("iris-e2e-docs-{}", std::process::id()));
    prepare_data_dir(&data, &["idefics3-tiny"], 8);
    let Some((display, _driver, session)) = launch(&data) else {
        return;
    };
    open_view_with_model(&session, "documents", "#documents-model", "idefics3-tiny");

    // A real drag of a scanned two-page PDF onto the Documents view.
    display.drag_file(&fixtures().join("pdf/scan.pdf"), (1300, 100), (700, 450));
    session.wait_for("[data-testid='page-row']", Duration::from_secs(60));
    let chip = session.text_content("[data-testid='documents-file']");
    assert!(
        chip.contains("scan.pdf") && chip.contains("PDF · 2 pages"),
        "{chip}"
    );
    assert_eq!(session.find_all("[data-testid='page-row']").len(), 2);
    session.wait_until(Duration::from_secs(30), |s| {
        (s.find_all("[data-testid='page-thumb']").len() == 2).then_some(())
    });
    assert_eq!(
        session.text_content("[data-testid='documents-progress']"),
        "2 pages · not read yet"
    );

    // Read every page: the text streams in (a page reading with tokens counted), each page
    // ends done, the progress bar fills.
    session.click("[data-testid='documents-read']");
    let streaming = session.wait_until(Duration::from_secs(300), |s| {
        let rows = s.texts_of(
            "[data-testid='page-row'][data-status='reading'] [data-testid='page-status']",
        );
        rows.into_iter()
            .find(|t| tokens_in(t).is_some_and(|n| n > 0))
    });
    assert!(streaming.starts_with("Reading…"), "{streaming}");
    // Not stuck on the model load that came after the first page started.
    let progress = session.text_content("[data-testid='documents-progress']");
    assert!(
        progress.starts_with("Reading page ") || progress.starts_with("Done"),
        "{progress}"
    );
    let finished = session.wait_until(Duration::from_secs(900), |s| {
        let label = s.text_content("[data-testid='documents-progress']");
        label.starts_with("Done").then_some(label)
    });
    assert_eq!(finished, "Done · 2 of 2 pages read");
    let statuses = session
        .texts_of("[data-testid='page-row'][data-status='done'] [data-testid='page-status']");
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    assert!(
        statuses.iter().all(|t| tokens_in(t).is_some_and(|n| n > 0)),
        "{statuses:?}"
    );
    session.wait_for(
        "[role='progressbar'][aria-label='Reading progress'][aria-valuenow='100']",
        Duration::from_secs(5),
    );
    // The shown page follows the reading; a click shows another.
    assert_eq!(session.text_content("[data-testid='page-title']"), "Page 2");
    session.click("[data-testid='page-row'][data-page='0']");
    assert_eq!(session.text_content("[data-testid='page-title']"), "Page 1");
    screenshot(&display, "documents");

    // Export Markdown through the native save dialog, answered like a user would.
    let out_dir = data.join("export");
    std::fs::create_dir_all(&out_dir).unwrap();
    let target = out_dir.join("scan.md");
    session.click("[data-testid='export-markdown']");
    assert!(
        display.answer_save_dialog(&target, Duration::from_secs(30)),
        "the native save dialog did not appear within 30 s"
    );
    // The page says where it saved once the file is written.
    let saved = session.wait_until(Duration::from_secs(30), |s| {
        let toasts = s.texts_of("[role='status']");
        toasts.into_iter().find(|t| t.contains("Saved"))
    });
    assert!(saved.contains(target.to_str().unwrap()), "{saved}");
    let markdown = std::fs::read_to_string(&target).unwrap();
    assert!(
        markdown.starts_with("<!-- page 1 -->") && markdown.contains("<!-- page 2 -->"),
        "{markdown}"
    );

    // A damaged PDF: refused in plain words by the Open button; the open document stays.
    display.drag_file(
        &fixtures().join("pdf/truncated.pdf"),
        (1300, 100),
        (700, 450),
    );
    session.wait_for(
        "[data-testid='documents-open-error-box'][data-code='BAD_DOCUMENT']",
        Duration::from_secs(30),
    );
    let error = session.text_content("[data-testid='documents-open-error'] .error-message");
    assert!(error.contains("truncated.pdf"), "{error}");
    screenshot(&display, "documents-bad-pdf");
    let chip = session.text_content("[data-testid='documents-file']");
    assert!(chip.contains("scan.pdf"), "{chip}");
    assert_eq!(
        session
            .find_all("[data-testid='page-row'][data-status='done']")
            .len(),
        2
    );
    // And the app keeps working: another page shows, the other views answer.
    session.click("[data-testid='page-row'][data-page='1']");
    assert_eq!(session.text_content("[data-testid='page-title']"), "Page 2");
    session.click("nav button[data-view='chat']");
    session.wait_for("textarea[aria-label='Message']", Duration::from_secs(20));
    session.close();
    let _ = std::fs::remove_dir_all(&data);
}
