use super::*;

#[test]
fn page_ranges_parse_and_validate() {
    let parse = |spec| parse_page_range(spec, 12);
    assert_eq!(parse("3").unwrap(), [2]);
    assert_eq!(parse("1-5").unwrap(), [0, 1, 2, 3, 4]);
    assert_eq!(parse("2,4-6").unwrap(), [1, 3, 4, 5]);
    assert_eq!(parse(" 6 , 1-2 ,2 ").unwrap(), [0, 1, 5]);
    assert_eq!(parse("10-").unwrap(), [9, 10, 11]);
    assert_eq!(parse("12").unwrap(), [11]);
    for (spec, says) in [
        ("", "empty"),
        ("1,,2", "empty"),
        ("0", "numbered from 1"),
        ("13", "page 13 does not exist: the document has 12 pages"),
        ("2-14", "page 14 does not exist"),
        ("13-", "page 13 does not exist"),
        ("5-3", "runs backwards"),
        ("-3", "missing its first page"),
        ("a", "\"a\" is not a page number"),
        ("1-2-3", "\"2-3\" is not a page number"),
    ] {
        let error = parse(spec).unwrap_err();
        assert!(matches!(error, PdfError::BadPageRange { .. }), "{spec}");
        let message = error.to_string();
        assert!(message.contains(says), "{spec}: {message}");
    }
    let one_page = parse_page_range("2", 1).unwrap_err().to_string();
    assert!(one_page.contains("the document has 1 page"), "{one_page}");
}
