// The models cfgan's programs are built from, in one include: with engine/engine.h, the
// stable API of the installed package (other headers are internal and may change).
#pragma once

#include "models/cdvae/model.h"
#include "models/classifier.h"
#include "models/explain/attribution.h"
#include "models/gan.h"
#include "models/gan_loss.h"
#include "models/metrics.h"
#include "models/regularizers.h"
