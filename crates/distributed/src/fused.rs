//! Every gradient of a model in one buffer, so that a step costs one
//! all-reduce rather than one per parameter (Horovod's tensor fusion).

use descent_autograd::Param;
use descent_tensor::Tensor;

/// The gradients of a fixed list of parameters, packed for summing across
/// ranks and unpacked into their average.
///
/// Layout: every parameter's gradient in order, weighted by the rank's
/// sample count; then one flag per parameter (1 where the rank had a
/// gradient for it); then the rank's sample count; then its loss times that
/// count. Summed over ranks, the buffer holds exactly what the global
/// averages need, whatever each rank's share of the batch.
#[derive(Debug)]
pub(crate) struct FusedGradients {
    params: Vec<Param>,
    /// Where each parameter's gradient starts; the last entry is where the
    /// flags start.
    offsets: Vec<usize>,
    buffer: Vec<f32>,
}

impl FusedGradients {
    /// A buffer for the gradients of `params`.
    pub(crate) fn new(params: Vec<Param>) -> FusedGradients {
        let mut offsets = Vec::with_capacity(params.len() + 1);
        let mut end = 0;
        for param in &params {
            offsets.push(end);
            end += param.numel();
        }
        offsets.push(end);
        let buffer = vec![0.0; end + params.len() + 2];
        FusedGradients {
            params,
            offsets,
            buffer,
        }
    }

    /// Clears every parameter's gradient.
    pub(crate) fn clear(&self) {
        for param in &self.params {
            param.zero_grad();
        }
    }

    /// The packed buffer, for the all-reduce to sum in place.
    pub(crate) fn buffer_mut(&mut self) -> &mut [f32] {
        &mut self.buffer
    }

    /// Packs this rank's contribution: its gradients (of its mean loss over
    /// `samples` samples) weighted by `samples`. A rank without samples
    /// contributes nothing, whatever its gradients and loss hold.
    pub(crate) fn pack(&mut self, samples: usize, mean_loss: f32) {
        let weight = samples as f32;
        let flags = self.offsets[self.params.len()];
        for (i, param) in self.params.iter().enumerate() {
            let slot = &mut self.buffer[self.offsets[i]..self.offsets[i + 1]];
            let grad = param.grad_ref();
            let has_grad = match grad.as_ref().filter(|_| samples > 0) {
                Some(grad) => {
                    for (packed, &g) in slot.iter_mut().zip(grad.data()) {
                        *packed = g * weight;
                    }
                    true
                }
                None => {
                    slot.fill(0.0);
                    false
                }
            };
            self.buffer[flags + i] = f32::from(u8::from(has_grad));
        }
        let n = self.buffer.len();
        self.buffer[n - 2] = weight;
        self.buffer[n - 1] = if samples > 0 { mean_loss * weight } else { 0.0 };
    }

    /// Writes the summed buffer's averages into the parameters' gradients
    /// (none where no rank had one) and returns the mean loss over every
    /// rank's samples.
    ///
    /// # Panics
    /// If no rank had a sample.
    pub(crate) fn unpack(&self) -> f32 {
        let n = self.buffer.len();
        let samples = self.buffer[n - 2];
        assert!(
            samples > 0.0,
            "all_reduce_gradients: no rank had a sample in this step"
        );
        let flags = self.offsets[self.params.len()];
        for (i, param) in self.params.iter().enumerate() {
            let summed = &self.buffer[self.offsets[i]..self.offsets[i + 1]];
            let mut grad = param.grad_mut();
            if self.buffer[flags + i] == 0.0 {
                *grad = None;
                continue;
            }
            match grad.as_mut() {
                Some(existing) => {
                    for (g, &s) in existing.data_mut().iter_mut().zip(summed) {
                        *g = s / samples;
                    }
                }
                None => {
                    let average = summed.iter().map(|&s| s / samples).collect();
                    *grad = Some(Tensor::from_vec(average, param.shape()));
                }
            }
        }
        self.buffer[n - 1] / samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two ranks' parameters: `w` (2 values) and `b` (1 value).
    fn rank_params(w: Option<[f32; 2]>, b: Option<f32>) -> Vec<Param> {
        let params = vec![
            Param::new(Tensor::zeros([2])),
            Param::new(Tensor::zeros([1])),
        ];
        if let Some(w) = w {
            params[0].accumulate_grad(Tensor::from(w));
        }
        if let Some(b) = b {
            params[1].accumulate_grad(Tensor::from([b]));
        }
        params
    }

    /// Packs every rank, sums the buffers in rank order, unpacks on rank 0.
    fn reduce(ranks: Vec<(Vec<Param>, usize, f32)>) -> (Vec<Param>, f32) {
        let mut fused: Vec<FusedGradients> = Vec::new();
        let mut first = None;
        for (params, samples, loss) in ranks {
            first.get_or_insert(params.clone());
            let mut rank = FusedGradients::new(params);
            rank.pack(samples, loss);
            fused.push(rank);
        }
        let mut total = vec![0.0; fused[0].buffer.len()];
        for rank in &mut fused {
            for (t, &x) in total.iter_mut().zip(rank.buffer_mut().iter()) {
                *t += x;
            }
        }
        fused[0].buffer_mut().copy_from_slice(&total);
        (first.unwrap(), fused[0].unpack())
    }

    #[test]
    fn gradients_and_losses_are_averaged_over_samples_not_ranks() {
        // Rank 0: 3 samples, mean loss 2, gradient (1, 2), 4; rank 1: 1 sample,
        // mean loss 6, gradient (5, -2), 8. Means over the 4 samples:
        // (3*1 + 5)/4 = 2, (3*2 - 2)/4 = 1, (3*4 + 8)/4 = 5; loss (6 + 6)/4 = 3.
        let (params, loss) = reduce(vec![
            (rank_params(Some([1.0, 2.0]), Some(4.0)), 3, 2.0),
            (rank_params(Some([5.0, -2.0]), Some(8.0)), 1, 6.0),
        ]);
        assert_eq!(params[0].grad().unwrap().to_vec(), [2.0, 1.0]);
        assert_eq!(params[1].grad().unwrap().to_vec(), [5.0]);
        assert_eq!(loss, 3.0);
    }

    #[test]
    fn a_gradient_missing_on_one_rank_counts_as_zero_and_on_all_stays_none() {
        let (params, _) = reduce(vec![
            (rank_params(Some([4.0, 8.0]), None), 1, 0.0),
            (rank_params(None, None), 1, 0.0),
        ]);
        assert_eq!(params[0].grad().unwrap().to_vec(), [2.0, 4.0]);
        assert!(params[1].grad().is_none());
    }

    #[test]
    fn a_rank_without_samples_contributes_nothing() {
        let (params, loss) = reduce(vec![
            (rank_params(Some([1.0, 3.0]), Some(2.0)), 2, 0.5),
            (rank_params(Some([100.0, 100.0]), None), 0, f32::NAN),
        ]);
        assert_eq!(params[0].grad().unwrap().to_vec(), [1.0, 3.0]);
        assert_eq!(params[1].grad().unwrap().to_vec(), [2.0]);
        assert_eq!(loss, 0.5);
    }

    #[test]
    #[should_panic(expected = "all_reduce_gradients: no rank had a sample in this step")]
    fn a_step_without_any_sample_panics() {
        reduce(vec![(rank_params(Some([1.0, 1.0]), Some(1.0)), 0, 1.0)]);
    }
}
