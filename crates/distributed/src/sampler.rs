//! Each rank's share of every global batch: PyTorch's `DistributedSampler`
//! and `DataLoader` in one.

use descent_data::{Batch, DataError, Dataset};
use descent_io::{Checkpoint, CheckpointError};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Serves one rank's shards of a [`Dataset`]'s global batches.
///
/// Every epoch has one order of the samples, the same on every rank (drawn
/// from the seed exactly as [`DataLoader::shuffle`](descent_data::DataLoader::shuffle)
/// draws it, so one rank sees the batches a `DataLoader` would serve). Global
/// batch `k` is the slice `k * global_batch_size ..` of that order; rank `r`
/// of `n` takes its elements `r, r + n, r + 2n, ...` (PyTorch's strided
/// split). The global batches therefore do not depend on the number of
/// ranks, which is what lets training resume on a different number.
///
/// A short last batch (kept unless [dropped](DistributedSampler::drop_last))
/// may leave a rank without a sample: its shard is then `None`.
///
/// ```
/// use descent_distributed::DistributedSampler;
/// use descent_data::Dataset;
/// use descent_tensor::Tensor;
///
/// let data = Dataset::new(Tensor::arange(0.0, 10.0, 1.0).reshape([10, 1]), Tensor::zeros([10]))?;
/// let mut rank1 = DistributedSampler::new(data, 4, 1, 2)?; // rank 1 of 2, 4 samples per step
/// let shards: Vec<Vec<f32>> = rank1.epoch(0).map(|s| s.unwrap().features.to_vec()).collect();
/// assert_eq!(shards, [vec![1.0, 3.0], vec![5.0, 7.0], vec![9.0]]);
/// # Ok::<(), descent_data::DataError>(())
/// ```
#[derive(Debug)]
pub struct DistributedSampler {
    data: Dataset,
    global_batch_size: usize,
    rank: usize,
    world_size: usize,
    drop_last: bool,
    seed: Option<u64>,
    rng: StdRng,
    /// The order of epoch `shuffles - 1`: each epoch shuffles the previous
    /// epoch's order again, as `DataLoader` does.
    order: Vec<usize>,
    shuffles: usize,
}

impl DistributedSampler {
    /// Shards of global batches of `global_batch_size` in data-set order,
    /// for rank `rank` of `world_size`.
    ///
    /// # Errors
    /// [`DataError::Invalid`] if `world_size` is 0, `rank` is not below it,
    /// or `global_batch_size` is smaller than `world_size` (some rank would
    /// never have a sample).
    pub fn new(
        data: Dataset,
        global_batch_size: usize,
        rank: usize,
        world_size: usize,
    ) -> Result<DistributedSampler, DataError> {
        if rank >= world_size {
            return Err(DataError::Invalid(format!(
                "rank {rank} is not below the number of ranks, {world_size}"
            )));
        }
        if global_batch_size < world_size {
            return Err(DataError::Invalid(format!(
                "a global batch of {global_batch_size} cannot give each of {world_size} ranks a sample"
            )));
        }
        let order = (0..data.len()).collect();
        Ok(DistributedSampler {
            data,
            global_batch_size,
            rank,
            world_size,
            drop_last: false,
            seed: None,
            rng: StdRng::seed_from_u64(0),
            order,
            shuffles: 0,
        })
    }

    /// Shuffles the order every epoch, reproducibly from `seed` (the same
    /// seed on every rank).
    pub fn shuffle(mut self, seed: u64) -> DistributedSampler {
        self.seed = Some(seed);
        self.restart_order();
        self
    }

    /// Drops a last global batch smaller than the global batch size.
    pub fn drop_last(mut self, drop_last: bool) -> DistributedSampler {
        self.drop_last = drop_last;
        self
    }

    /// The data set.
    pub fn dataset(&self) -> &Dataset {
        &self.data
    }

    /// The number of samples per step over all ranks.
    pub fn global_batch_size(&self) -> usize {
        self.global_batch_size
    }

    /// This rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of ranks.
    pub fn world_size(&self) -> usize {
        self.world_size
    }

    /// The number of global batches (steps) per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        if self.drop_last {
            self.data.len() / self.global_batch_size
        } else {
            self.data.len().div_ceil(self.global_batch_size)
        }
    }

    /// This rank's shards of the global batches of `epoch` (counted from
    /// 0), one per step. Epochs may be asked for in any order; going back
    /// replays the shuffles from the seed.
    pub fn epoch(&mut self, epoch: usize) -> Shards<'_> {
        if self.seed.is_some() {
            if self.shuffles > epoch + 1 {
                self.restart_order();
            }
            while self.shuffles < epoch + 1 {
                self.order.shuffle(&mut self.rng);
                self.shuffles += 1;
            }
        }
        Shards {
            steps: self.batches_per_epoch(),
            sampler: self,
            step: 0,
        }
    }

    /// Writes what fixes the sequence of global batches (seed, global batch
    /// size, data-set size, drop_last) under `prefix`, for
    /// [`DistributedSampler::check_state`] to compare on resuming. The rank
    /// and the number of ranks are not saved: training may resume on any.
    pub fn save_state(&self, checkpoint: &mut Checkpoint, prefix: &str) {
        for (name, value) in self.state() {
            checkpoint.insert_scalar(format!("{prefix}{name}"), value);
        }
    }

    /// Checks that this sampler serves the global batches the one that
    /// wrote `checkpoint` served.
    ///
    /// # Errors
    /// [`CheckpointError::State`] naming the first missing or different entry.
    pub fn check_state(
        &self,
        checkpoint: &Checkpoint,
        prefix: &str,
    ) -> Result<(), CheckpointError> {
        for (name, value) in self.state() {
            let key = format!("{prefix}{name}");
            let saved = checkpoint.require_scalar(&key)?;
            if saved != value {
                return Err(CheckpointError::State(format!(
                    "{key:?} is {saved} in the checkpoint but {value} in this sampler"
                )));
            }
        }
        Ok(())
    }

    /// The saved configuration; a seed is split into two exact 32-bit
    /// halves, since checkpoint scalars are f64.
    fn state(&self) -> [(&'static str, f64); 6] {
        let seed = self.seed.unwrap_or(0);
        [
            ("shuffle", f64::from(u8::from(self.seed.is_some()))),
            ("seed_high", (seed >> 32) as f64),
            ("seed_low", (seed & 0xffff_ffff) as f64),
            ("global_batch_size", self.global_batch_size as f64),
            ("samples", self.data.len() as f64),
            ("drop_last", f64::from(u8::from(self.drop_last))),
        ]
    }

    fn restart_order(&mut self) {
        self.rng = StdRng::seed_from_u64(self.seed.unwrap_or(0));
        self.order = (0..self.data.len()).collect();
        self.shuffles = 0;
    }

    /// This rank's samples of global batch `step` of the current order.
    fn shard(&self, step: usize) -> Option<Batch> {
        let start = step * self.global_batch_size;
        let end = (start + self.global_batch_size).min(self.order.len());
        let mine: Vec<usize> = self.order[start..end]
            .iter()
            .skip(self.rank)
            .step_by(self.world_size)
            .copied()
            .collect();
        (!mine.is_empty()).then(|| self.data.batch(&mine))
    }
}

/// The shards of one epoch, from [`DistributedSampler::epoch`]. Skipping
/// (`.skip(n)`, to resume mid-epoch) gathers no skipped sample.
#[derive(Debug)]
pub struct Shards<'a> {
    sampler: &'a DistributedSampler,
    step: usize,
    steps: usize,
}

impl Iterator for Shards<'_> {
    type Item = Option<Batch>;

    fn next(&mut self) -> Option<Option<Batch>> {
        if self.step >= self.steps {
            return None;
        }
        self.step += 1;
        Some(self.sampler.shard(self.step - 1))
    }

    fn nth(&mut self, n: usize) -> Option<Option<Batch>> {
        self.step = self.step.saturating_add(n).min(self.steps);
        self.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.steps - self.step;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Shards<'_> {}

#[cfg(test)]
mod tests {
    use descent_data::DataLoader;
    use descent_tensor::Tensor;

    use super::*;

    fn numbered(n: usize) -> Dataset {
        let features = Tensor::arange(0.0, n as f32, 1.0).reshape([n, 1]);
        Dataset::classification(features, &(0..n).collect::<Vec<_>>()).unwrap()
    }

    fn samplers(n: usize, batch: usize, ranks: usize, seed: u64) -> Vec<DistributedSampler> {
        (0..ranks)
            .map(|rank| {
                DistributedSampler::new(numbered(n), batch, rank, ranks)
                    .unwrap()
                    .shuffle(seed)
            })
            .collect()
    }

    /// The sample indices of each rank's shard of each step of `epoch`.
    fn shard_indices(sampler: &mut DistributedSampler, epoch: usize) -> Vec<Vec<usize>> {
        sampler
            .epoch(epoch)
            .map(|shard| shard.map_or(Vec::new(), |b| b.classes().to_vec()))
            .collect()
    }

    #[test]
    fn one_rank_serves_what_a_data_loader_serves() {
        let mut loader = DataLoader::new(numbered(23), 5).unwrap().shuffle(9);
        let mut sampler = DistributedSampler::new(numbered(23), 5, 0, 1)
            .unwrap()
            .shuffle(9);
        for epoch in 0..3 {
            let expected: Vec<Vec<usize>> = loader.epoch().map(|b| b.classes().to_vec()).collect();
            assert_eq!(
                shard_indices(&mut sampler, epoch),
                expected,
                "epoch {epoch}"
            );
        }
    }

    #[test]
    fn the_ranks_split_each_global_batch_into_disjoint_strided_shards() {
        let mut single = samplers(23, 6, 1, 4).remove(0);
        for ranks in [2, 3, 6] {
            let mut shards = samplers(23, 6, ranks, 4);
            for epoch in 0..2 {
                let global = shard_indices(&mut single, epoch);
                let per_rank: Vec<_> = shards.iter_mut().map(|s| shard_indices(s, epoch)).collect();
                for (step, batch) in global.iter().enumerate() {
                    for (rank, rank_shards) in per_rank.iter().enumerate() {
                        let expected: Vec<usize> =
                            batch.iter().skip(rank).step_by(ranks).copied().collect();
                        assert_eq!(
                            rank_shards[step], expected,
                            "{ranks} ranks, epoch {epoch}, step {step}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_short_last_batch_leaves_late_ranks_without_a_shard() {
        // 10 samples in batches of 4 over 3 ranks: the last batch has 2.
        let mut shards = samplers(10, 4, 3, 0);
        let last: Vec<bool> = shards
            .iter_mut()
            .map(|s| s.epoch(0).last().unwrap().is_some())
            .collect();
        assert_eq!(last, [true, true, false]);
        let mut dropping = DistributedSampler::new(numbered(10), 4, 2, 3)
            .unwrap()
            .drop_last(true);
        assert_eq!(dropping.batches_per_epoch(), 2);
        assert!(dropping.epoch(0).all(|shard| shard.is_some()));
    }

    #[test]
    fn epochs_differ_and_replay_in_any_order() {
        let mut sampler = samplers(50, 10, 2, 3).remove(1);
        let forward: Vec<_> = (0..4).map(|e| shard_indices(&mut sampler, e)).collect();
        assert_ne!(forward[0], forward[1]);
        assert_eq!(shard_indices(&mut sampler, 1), forward[1]);
        assert_eq!(shard_indices(&mut sampler, 3), forward[3]);
        let mut fresh = samplers(50, 10, 2, 3).remove(1);
        assert_eq!(shard_indices(&mut fresh, 2), forward[2]);
    }

    #[test]
    fn skipping_steps_lands_on_the_same_shards() {
        let mut sampler = samplers(40, 8, 2, 1).remove(0);
        let all = shard_indices(&mut sampler, 0);
        let rest: Vec<_> = sampler
            .epoch(0)
            .skip(3)
            .map(|s| s.unwrap().classes().to_vec())
            .collect();
        assert_eq!(rest, all[3..]);
        assert_eq!(sampler.epoch(0).skip(3).len(), 2);
        assert!(sampler.epoch(0).nth(9).is_none());
    }

    #[test]
    fn invalid_ranks_and_batch_sizes_are_refused() {
        let err = DistributedSampler::new(numbered(5), 4, 2, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rank 2 is not below the number of ranks, 2"
        );
        let err = DistributedSampler::new(numbered(5), 2, 0, 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a global batch of 2 cannot give each of 3 ranks a sample"
        );
    }

    #[test]
    fn the_saved_state_accepts_any_rank_and_refuses_another_sequence() {
        let mut checkpoint = Checkpoint::new();
        let seed = (7 << 40) + 3;
        let writer = DistributedSampler::new(numbered(30), 6, 1, 2)
            .unwrap()
            .shuffle(seed);
        writer.save_state(&mut checkpoint, "sampler.");
        let one_rank = DistributedSampler::new(numbered(30), 6, 0, 1)
            .unwrap()
            .shuffle(seed);
        one_rank.check_state(&checkpoint, "sampler.").unwrap();

        let other_seed = DistributedSampler::new(numbered(30), 6, 0, 1)
            .unwrap()
            .shuffle(seed + (1 << 33));
        let err = other_seed.check_state(&checkpoint, "sampler.").unwrap_err();
        assert_eq!(
            err.to_string(),
            "checkpoint state \"sampler.seed_high\" is 1792 in the checkpoint but 1794 in this sampler"
        );
        let other_batch = DistributedSampler::new(numbered(30), 5, 0, 1)
            .unwrap()
            .shuffle(seed);
        assert!(other_batch.check_state(&checkpoint, "sampler.").is_err());
        let err = writer
            .check_state(&Checkpoint::new(), "sampler.")
            .unwrap_err();
        assert!(
            err.to_string().contains("\"sampler.shuffle\" is missing"),
            "{err}"
        );
    }
}
