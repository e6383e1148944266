// Everything a program built on the engine needs, in one include.
#pragma once

#include "engine/autograd.h"
#include "engine/data/dataset.h"
#include "engine/data/loader.h"
#include "engine/error.h"
#include "engine/gradcheck.h"
#include "engine/io/image.h"
#include "engine/io/safetensors.h"
#include "engine/matmul_precision.h"
#include "engine/nn/init.h"
#include "engine/nn/layers.h"
#include "engine/nn/spectral_norm.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "engine/tensor.h"
