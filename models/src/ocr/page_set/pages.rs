//! The set's pages: what each one says and how it is set. The texts are written for the set.

use super::layout::{Align, Column, ListMarker, Page, Style};
use super::pdf::{Face, Metrics, Sheet};

/// One page of the set.
pub(super) struct PageSpec {
    /// The file stem (`NN-what`); the set reads in this order.
    pub name: &'static str,
    pub build: fn(&Metrics) -> (Sheet, String),
    /// Made to look scanned after rendering (with this seed).
    pub scan_seed: Option<u64>,
}

pub(super) const PAGES: [PageSpec; 7] = [
    PageSpec {
        name: "01-report",
        build: report,
        scan_seed: None,
    },
    PageSpec {
        name: "02-type-sizes",
        build: type_sizes,
        scan_seed: None,
    },
    PageSpec {
        name: "03-list-and-table",
        build: list_and_table,
        scan_seed: None,
    },
    PageSpec {
        name: "04-two-columns",
        build: two_columns,
        scan_seed: None,
    },
    PageSpec {
        name: "05-monospaced",
        build: monospaced,
        scan_seed: None,
    },
    PageSpec {
        name: "06-accents-and-styles",
        build: accents_and_styles,
        scan_seed: None,
    },
    PageSpec {
        name: "07-scanned-letter",
        build: letter,
        scan_seed: Some(7),
    },
];

/// A4 and A5 in points.
const A4: (f32, f32) = (595.0, 842.0);
const A5: (f32, f32) = (420.0, 595.0);
const MARGIN: f32 = 64.0;

fn a4(metrics: &Metrics) -> (Page<'_>, Column) {
    let page = Page::new(metrics, A4.0, A4.1);
    let column = Column {
        x: MARGIN,
        width: A4.0 - 2.0 * MARGIN,
        y: MARGIN,
    };
    (page, column)
}

/// Helvetica: a title, an oblique subtitle, bold section headings and body text at 11 pt.
fn report(metrics: &Metrics) -> (Sheet, String) {
    let (mut page, mut c) = a4(metrics);
    let body = Style::new(Face::Sans, 11.0);
    let heading = Style::new(Face::SansBold, 14.0);
    page.paragraph(
        &mut c,
        Style::new(Face::SansBold, 22.0),
        "Annual Report of the Riverside Library",
    );
    page.paragraph(
        &mut c,
        Style::new(Face::SansOblique, 12.0),
        "Prepared for the board meeting of 14 March 2025",
    );
    c.skip(10.0);
    page.paragraph(&mut c, heading, "1. Visitors and loans");
    page.paragraph(&mut c, body, "The library welcomed 48,210 visitors last year, an increase of 6.4% over the year before. Most of the growth came from the new Saturday opening hours, which drew families and students in equal numbers. Loans of printed books fell slightly, to 61,905, while loans of e-books and audiobooks rose by a third.");
    page.paragraph(&mut c, heading, "2. Building works");
    page.paragraph(&mut c, body, "The roof over the reading room was repaired in June. Work on the north entrance, delayed by the late delivery of the glass panels, is now expected to finish in October. The children's corner stayed open throughout, thanks to the patience of our staff and volunteers.");
    page.paragraph(&mut c, heading, "3. Plans for next year");
    page.paragraph(&mut c, body, "We propose to open until 9 p.m. on Thursdays, to start a weekly reading club for adults who are learning English, and to replace the twelve oldest public computers. These plans would cost an estimated 23,400 euros, of which the city has already promised half.");
    page.finish()
}

/// Times at 24 pt down to 9 pt, then a paragraph of small print.
fn type_sizes(metrics: &Metrics) -> (Sheet, String) {
    let (mut page, mut c) = a4(metrics);
    let lines: [(Face, f32, &str); 7] = [
        (Face::SerifBold, 24.0, "Type sizes from 24 down to 9 points"),
        (Face::Serif, 18.0, "Eighteen points: a subheading"),
        (
            Face::Serif,
            14.0,
            "Fourteen points: the five boxing wizards jump quickly.",
        ),
        (
            Face::Serif,
            12.0,
            "Twelve points: pack my box with five dozen liquor jugs.",
        ),
        (
            Face::SerifItalic,
            11.0,
            "Eleven points, italic: how vexingly quick daft zebras jump!",
        ),
        (
            Face::Serif,
            10.0,
            "Ten points: sphinx of black quartz, judge my vow. 0123456789",
        ),
        (
            Face::Serif,
            9.0,
            "Nine points: jackdaws love my big sphinx of quartz.",
        ),
    ];
    for (face, size, text) in lines {
        page.paragraph(&mut c, Style::new(face, size), text);
    }
    c.skip(8.0);
    page.paragraph(&mut c, Style::new(Face::Serif, 9.0), "Footnotes and captions are often set in nine-point type. At this size a reader should still tell 1 from l, 0 from O and rn from m; these pairs are where most recognition errors hide, together with small punctuation such as commas, periods, colons and semicolons. Figures matter as well: 3.14159, 2,718 and 1/8 should come out exactly as printed.");
    page.paragraph(&mut c, Style::new(Face::Serif, 10.0), "Body text is usually set between ten and twelve points. Longer lines need more space between them, which is why a page of small type can still be easy to read when it is not crowded.");
    page.finish()
}

/// A bulleted list, a numbered list and a ruled table with right-aligned amounts.
fn list_and_table(metrics: &Metrics) -> (Sheet, String) {
    let (mut page, mut c) = a4(metrics);
    let body = Style::new(Face::Sans, 11.0);
    let heading = Style::new(Face::SansBold, 14.0);
    page.paragraph(
        &mut c,
        Style::new(Face::SansBold, 18.0),
        "Field Trip to the Wetlands",
    );
    page.paragraph(&mut c, body, "Please bring the following items:");
    let packing = [
        "A water bottle (at least 1 litre)",
        "Sturdy shoes and a rain jacket",
        "A notebook, two pencils and an eraser, packed in a plastic bag so that they stay dry if it rains",
        "Lunch and a small snack",
    ];
    page.list(&mut c, body, &packing, ListMarker::Bullets);
    page.paragraph(&mut c, heading, "Timetable");
    page.list(
        &mut c,
        body,
        &[
            "Meet at the school gate at 8:15.",
            "The bus leaves at 8:30 sharp.",
            "Guided walk through the reed beds until noon.",
            "Back at school by 15:45.",
        ],
        ListMarker::Numbers,
    );
    page.paragraph(&mut c, heading, "Costs per pupil");
    let columns = [
        (170.0, Align::Left),
        (90.0, Align::Right),
        (150.0, Align::Left),
    ];
    let rows: [&[&str]; 6] = [
        &["Item", "Amount", "Note"],
        &["Bus ticket", "4.50", "return"],
        &["Museum entry", "3.00", "group rate"],
        &["Guide", "1.25", "shared by 24"],
        &["Insurance", "0.80", "required"],
        &["Total", "9.55", "due by 1 May"],
    ];
    page.table(
        &mut c,
        (Style::new(Face::SansBold, 11.0), body),
        &columns,
        &rows,
    );
    page.finish()
}

/// Times in two columns under a title that spans both; the left column reads first.
fn two_columns(metrics: &Metrics) -> (Sheet, String) {
    let (mut page, mut c) = a4(metrics);
    let body = Style::new(Face::Serif, 10.5);
    let heading = Style::new(Face::SerifBold, 12.0);
    page.paragraph(
        &mut c,
        Style::new(Face::SerifBold, 20.0),
        "The Quiet Return of the Night Train",
    );
    page.paragraph(
        &mut c,
        Style::new(Face::SerifItalic, 11.0),
        "From our travel correspondent",
    );
    c.skip(6.0);
    let gutter = 20.0;
    let width = (c.width - gutter) / 2.0;
    let mut left = Column { width, ..c };
    let mut right = Column {
        x: c.x + width + gutter,
        width,
        ..c
    };
    page.paragraph(&mut left, body, "Ten years ago most night trains in Europe had been cancelled. Flights were cheap, the old sleeping cars were worn out, and few railways wanted to pay for new ones. Today the picture is very different: new routes open every winter, and tickets for the summer sell out within days.");
    page.paragraph(&mut left, body, "The reasons are simple. A night train leaves one city centre in the evening and arrives in another the next morning, which saves both a hotel night and the trip to an airport. Many travellers also want to cut the emissions of their journeys.");
    page.paragraph(&mut right, heading, "Old cars, new beds");
    page.paragraph(&mut right, body, "The operators have not had an easy time. New sleeping cars take years to build, and several deliveries have been late. Some routes still run with coaches from the 1980s, refitted with new mattresses, power sockets and better locks.");
    page.paragraph(&mut right, body, "Prices vary widely. A couchette from Vienna to Hamburg costs from 59 euros, while a private compartment with its own shower can cost more than 300. Booking early helps, and so does travelling in the middle of the week.");
    page.finish()
}

/// Courier: an order confirmation laid out with spaces, then a paragraph.
fn monospaced(metrics: &Metrics) -> (Sheet, String) {
    let (mut page, mut c) = a4(metrics);
    let mono = Style::new(Face::Mono, 10.0);
    page.paragraph(
        &mut c,
        Style::new(Face::MonoBold, 14.0),
        "ORDER CONFIRMATION",
    );
    page.preformatted(
        &mut c,
        mono,
        &[
            "Order no.:  2025-0417-883",
            "Date:       17 April 2025",
            "Customer:   M. Okafor, Lindenstrasse 12, 10969 Berlin",
        ],
    );
    page.preformatted(
        &mut c,
        mono,
        &[
            "Qty  Item                          Price",
            "  2  Graph paper pad, A4            7.90",
            "  1  Mechanical pencil, 0.5 mm      4.25",
            "  3  Eraser, white                  2.85",
            "  1  Ruler, 30 cm                   1.60",
            "     Total (incl. VAT 19%)         16.60",
        ],
    );
    page.preformatted(&mut c, mono, &["Payment: card ending in 4421 (paid)"]);
    page.paragraph(&mut c, mono, "Please keep this confirmation for your records. Returns are accepted within 30 days with the receipt; items must be unused and in their original packaging. Questions? Write to orders@example.com and quote your order number.");
    page.finish()
}

/// Sans and serif mixed, bold and italic lines, accented letters, the euro sign and dashes.
fn accents_and_styles(metrics: &Metrics) -> (Sheet, String) {
    let (mut page, mut c) = a4(metrics);
    let serif = Style::new(Face::Serif, 12.0);
    page.paragraph(
        &mut c,
        Style::new(Face::SansBold, 18.0),
        "Notes from the Language Café",
    );
    page.paragraph(&mut c, serif, "Every Tuesday at the Café Müller in Zürich, about twenty people meet to practise French, German and Spanish. Last week Señora Ibáñez taught us how to order a crème brûlée without sounding naïve, and Jürgen explained why the façade of the old town hall is painted ochre.");
    page.paragraph(
        &mut c,
        Style::new(Face::SerifItalic, 12.0),
        "Next meeting: Tuesday, 6 May, 19:00–21:00.",
    );
    page.paragraph(
        &mut c,
        Style::new(Face::SansBold, 12.0),
        "Entry is free; coffee costs €2.50 and cake €3.80.",
    );
    page.paragraph(&mut c, Style::new(Face::Sans, 11.0), "Questions? Ask at the counter, look at the notice board or call 044 123 45 67. Remember: \"practice makes perfect\" — but mistakes are welcome, too!");
    page.paragraph(
        &mut c,
        Style::new(Face::Serif, 11.0),
        "Words of the week: déjà vu, à la carte, Straße, smörgåsbord, piñata, über, coöperation.",
    );
    page.finish()
}

/// A short letter on A5 in Times, made to look scanned afterwards.
fn letter(metrics: &Metrics) -> (Sheet, String) {
    let margin = 44.0;
    let mut page = Page::new(metrics, A5.0, A5.1);
    let mut c = Column {
        x: margin,
        width: A5.0 - 2.0 * margin,
        y: margin,
    };
    let body = Style::new(Face::Serif, 11.0);
    page.preformatted(
        &mut c,
        body,
        &[
            "Northside Water Company",
            "Customer Service",
            "12 September 2025",
        ],
    );
    c.skip(6.0);
    page.paragraph(&mut c, body, "Dear Ms. Lindqvist,");
    page.paragraph(&mut c, body, "Thank you for your letter of 2 September. We have checked the meter readings you sent and agree that the bill for the second quarter was too high. A corrected bill for 86.40 euros will reach you within two weeks, and the difference of 31.15 euros will be credited to your account.");
    page.paragraph(&mut c, body, "We apologise for the trouble this has caused. If you have any further questions, please call our service line on 0800 555 0199, Monday to Friday between 8 a.m. and 6 p.m.");
    page.paragraph(&mut c, body, "Yours sincerely,");
    page.preformatted(&mut c, body, &["Henrik Aalto", "Customer Service"]);
    page.finish()
}
