//! A ring all-reduce that sums in a fixed order, so that the same inputs
//! give the same bits on every rank and in every run (`MPI_Allreduce` may
//! pick a different algorithm, and so a different order, by message size,
//! rank count or library version).
//!
//! The buffer is cut into one chunk per rank. In the reduce-scatter phase
//! each chunk travels once around the ring, every rank adding its own
//! values to the running sum it receives; in the all-gather phase the
//! finished chunks travel once more, copied. Chunk `c` is summed as
//! `((g[c] + g[c+1]) + g[c+2]) + ... + g[c-1]` (ranks modulo `n`). Each rank
//! sends and receives `2 (n - 1) / n` times the buffer, the least any
//! all-reduce can (Patarasuk and Yuan, 2009).

use std::ops::Range;

/// Point-to-point exchange within a fixed group of ranks: all the ring needs.
pub(crate) trait Exchange {
    /// This rank, in `0..size()`.
    fn rank(&self) -> usize;

    /// The number of ranks.
    fn size(&self) -> usize;

    /// Sends `send` to rank `to` while receiving `receive.len()` values from
    /// rank `from`; returns when both are done.
    fn send_receive(&self, send: &[f32], to: usize, receive: &mut [f32], from: usize);
}

/// Chunk `c` of `n` of a buffer of `len` values: sizes differ by at most one.
fn chunk(c: usize, n: usize, len: usize) -> Range<usize> {
    c * len / n..(c + 1) * len / n
}

/// Replaces `buffer` on every rank by the sum over ranks of every rank's
/// `buffer`, in the fixed order above. Every rank must call it with a
/// buffer of the same length; `scratch` is reused between calls.
pub(crate) fn ring_all_reduce(
    exchange: &impl Exchange,
    buffer: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    let (rank, n, len) = (exchange.rank(), exchange.size(), buffer.len());
    if n == 1 {
        return;
    }
    let next = (rank + 1) % n;
    let previous = (rank + n - 1) % n;
    scratch.resize(len.div_ceil(n), 0.0);
    // Step s: send chunk rank - s (the sum so far), receive chunk
    // rank - s - 1 and add this rank's values to it.
    for s in 0..n - 1 {
        let sent = chunk((rank + n - s) % n, n, len);
        let received = chunk((rank + 2 * n - s - 1) % n, n, len);
        let incoming = &mut scratch[..received.len()];
        exchange.send_receive(&buffer[sent], next, incoming, previous);
        for (own, &sum) in buffer[received].iter_mut().zip(incoming.iter()) {
            *own += sum;
        }
    }
    // This rank now holds the finished chunk rank + 1. Step s: send
    // finished chunk rank + 1 - s, receive finished chunk rank - s.
    for s in 0..n - 1 {
        let sent = chunk((rank + 1 + n - s) % n, n, len);
        let received = chunk((rank + n - s) % n, n, len);
        let incoming = &mut scratch[..received.len()];
        exchange.send_receive(&buffer[sent], next, incoming, previous);
        buffer[received].copy_from_slice(incoming);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{Receiver, Sender, channel};

    use rand::RngExt;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    /// Ranks as threads, linked by channels: `inboxes[from]` receives what
    /// rank `from` sends to this rank.
    struct Threads {
        rank: usize,
        outboxes: Vec<Sender<Vec<f32>>>,
        inboxes: Vec<Receiver<Vec<f32>>>,
    }

    impl Exchange for Threads {
        fn rank(&self) -> usize {
            self.rank
        }

        fn size(&self) -> usize {
            self.outboxes.len()
        }

        fn send_receive(&self, send: &[f32], to: usize, receive: &mut [f32], from: usize) {
            self.outboxes[to].send(send.to_vec()).unwrap();
            let message = self.inboxes[from].recv().unwrap();
            assert_eq!(
                message.len(),
                receive.len(),
                "rank {} from {from}",
                self.rank
            );
            receive.copy_from_slice(&message);
        }
    }

    /// Runs the ring on `inputs.len()` threads; returns each rank's result.
    fn all_reduce(inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let n = inputs.len();
        let mut senders: Vec<Vec<Sender<Vec<f32>>>> = (0..n).map(|_| Vec::new()).collect();
        let mut receivers: Vec<Vec<Receiver<Vec<f32>>>> = (0..n).map(|_| Vec::new()).collect();
        for sender in senders.iter_mut() {
            for receiver in receivers.iter_mut() {
                let (tx, rx) = channel();
                sender.push(tx);
                receiver.push(rx);
            }
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = senders
                .into_iter()
                .zip(receivers)
                .zip(inputs)
                .enumerate()
                .map(|(rank, ((outboxes, inboxes), input))| {
                    scope.spawn(move || {
                        let threads = Threads {
                            rank,
                            outboxes,
                            inboxes,
                        };
                        let mut buffer = input.clone();
                        ring_all_reduce(&threads, &mut buffer, &mut Vec::new());
                        buffer
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    fn random_inputs(ranks: usize, len: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..ranks)
            .map(|_| {
                (0..len)
                    .map(|_| rng.random_range(-1.0f32..1.0) * 1e3)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_rank_gets_the_sum_in_the_documented_order() {
        for ranks in 1..=6 {
            for len in [0, 1, 3, 7, 100] {
                let inputs = random_inputs(ranks, len, (ranks * 1000 + len) as u64);
                let results = all_reduce(&inputs);
                for c in 0..ranks {
                    for i in chunk(c, ranks, len) {
                        let mut expected = inputs[c][i];
                        for k in 1..ranks {
                            expected += inputs[(c + k) % ranks][i];
                        }
                        for (rank, result) in results.iter().enumerate() {
                            assert_eq!(
                                result[i].to_bits(),
                                expected.to_bits(),
                                "{ranks} ranks, {len} values, element {i} on rank {rank}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_same_inputs_give_the_same_bits_every_run() {
        let inputs = random_inputs(5, 1001, 7);
        let first = all_reduce(&inputs);
        for _ in 0..5 {
            assert_eq!(all_reduce(&inputs), first);
        }
    }

    #[test]
    fn the_order_is_the_ring_order_not_the_rank_order() {
        // Element 1 is chunk 1, summed as (g[1] + g[2]) + g[0] =
        // (1e8 + 1) - 1e8 = 0 in f32; in rank order, (-1e8 + 1e8) + 1 = 1.
        let inputs = vec![
            vec![0.0, -1e8, 0.0],
            vec![0.0, 1e8, 0.0],
            vec![0.0, 1.0, 0.0],
        ];
        for result in all_reduce(&inputs) {
            assert_eq!(result[1], 0.0);
        }
    }
}
