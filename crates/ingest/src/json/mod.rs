//! Reading JSON: the pull scanner the fast readers step through a line with
//! ([`scan`]), the lenient view of one value both it and the serde readers
//! convert through ([`value`]), and the scanner's helpers for key prediction
//! and the differential tests against serde ([`scan_value`]).

pub mod scan;
pub(crate) mod scan_value;
pub mod value;

pub use crate::source::mend::{mend_line, mend_line_said, mend_lone_surrogates};
