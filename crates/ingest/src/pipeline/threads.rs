//! How many threads a `--threads N` means, and work spread over them with
//! the results kept in order (for stages after the reading: the waste
//! rules, the report formats).

use std::sync::atomic::{AtomicUsize, Ordering};

/// The threads `--threads N` asks for: `N`, or every core for 0 (two if
/// the system cannot tell).
pub fn worker_threads(requested: usize) -> usize {
    match requested {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    }
}

/// `f` of each of `items`, in their order, on up to `threads` threads (0:
/// every core): each thread takes the next item not yet taken, so one slow
/// item does not hold the others back. One thread (or one item): on the
/// calling thread.
pub fn map_in_order<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = worker_threads(threads).min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(item)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_whatever_the_threads() {
        let items: Vec<u64> = (0..100).collect();
        let square = |x: &u64| x * x;
        let one = map_in_order(&items, 1, square);
        assert_eq!(one, items.iter().map(square).collect::<Vec<_>>());
        for threads in [0, 2, 3, 200] {
            assert_eq!(
                map_in_order(&items, threads, square),
                one,
                "{threads} threads"
            );
        }
        assert!(map_in_order(&[] as &[u64], 4, square).is_empty());
        assert_eq!(worker_threads(3), 3);
        assert!(worker_threads(0) >= 1);
    }
}
