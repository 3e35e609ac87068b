//! One module per rule; see `detect/mod.rs` for the registry and the shape
//! every rule follows.

pub mod ta101_spend_concentration;
pub mod ta102_conversation_growth;
pub mod ta103_uncached_repeated_prefix;
pub mod ta104_volatile_prefix;
pub mod ta105_cache_hit_collapse;
pub mod ta106_prompt_size_drift;
pub mod ta107_failed_call_spend;
pub mod ta108_retry_storm;
pub mod ta109_duplicate_requests;
pub mod ta110_near_duplicate_requests;
pub mod ta111_premium_model_for_small_task;
pub mod ta112_output_bloat;
pub mod ta113_batch_eligible;
pub mod ta114_spend_spike;
pub mod ta115_model_mix_drift;
pub mod ta116_budget_overrun;
