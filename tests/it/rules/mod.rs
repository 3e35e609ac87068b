//! One test module per detector rule: a fixture where the planted waste is
//! found with the figures computed by hand in the test, and a clean fixture
//! where the rule finds nothing.
mod ta101;
mod ta102;
mod ta103;
mod ta104;
mod ta105;
mod ta106;
mod ta107;
mod ta108;
pub(crate) mod ta109;
mod ta110;
mod ta111;
mod ta112;
mod ta113;
mod ta114;
mod ta115;
mod ta116;
