//! One test module per detector rule: a fixture where the planted waste is
//! found with the figures computed by hand in the test, and a clean fixture
//! where the rule finds nothing.
mod ta109;
mod ta111;
mod ta112;
mod ta113;
mod ta114;
mod ta115;
mod ta116;
