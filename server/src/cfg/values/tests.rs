use super::*;

#[test]
fn durations_read_as_people_write_them() {
    assert_eq!(parse_duration_ms("5000", 1), Ok(5000));
    assert_eq!(parse_duration_ms("30", 1000), Ok(30));
    assert_eq!(parse_duration_ms("30s", 1), Ok(30_000));
    assert_eq!(parse_duration_ms("1500", 1), Ok(1500));
    assert_eq!(parse_duration_ms("30s", 1000), Ok(30));
    assert_eq!(parse_duration_ms("250ms", 1), Ok(250));
    assert_eq!(parse_duration_ms("1m30s", 1000), Ok(90));
    assert_eq!(parse_duration_ms("1h", 1000), Ok(3600));
    assert_eq!(parse_duration_ms("3d", 1000), Ok(259_200));
    for bad in ["", "s", "5 s", "5sec", "-5s", "1.5s", "abc"] {
        assert!(parse_duration_ms(bad, 1).is_err(), "{bad}");
    }
    assert!(parse_duration_ms("1500ms", 1000).is_err(), "finer than the unit");
}
