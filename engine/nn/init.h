// Weight initialization, in place, from an explicit generator (runs are reproducible).
#pragma once

#include "engine/random.h"
#include "engine/tensor.h"

namespace cfgan {

// The process-wide generator layers draw their default initialization from.
Generator& default_generator();
void manual_seed(uint64_t seed);

void init_normal(Tensor& t, float mean, float std, Generator& gen);
void init_uniform(Tensor& t, float lo, float hi, Generator& gen);
// fan_in / fan_out of a (out, in, ...) weight: in * receptive field, out * receptive field.
int64_t fan_in(const Tensor& weight);
int64_t fan_out(const Tensor& weight);
// Kaiming (He) for a leaky-ReLU slope `a` (0 for ReLU), over fan_in.
void init_kaiming_uniform(Tensor& weight, float a, Generator& gen);
void init_kaiming_normal(Tensor& weight, float a, Generator& gen);
void init_xavier_uniform(Tensor& weight, float gain, Generator& gen);
void init_xavier_normal(Tensor& weight, float gain, Generator& gen);

}  // namespace cfgan
