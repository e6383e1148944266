#include "models/cdvae/evaluation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/io/image.h"
#include "engine/ops.h"
#include "models/metrics.h"
#include "models/world/render.h"

namespace cfgan {
namespace {

// Model outputs rounded to 8 bits, as the PNGs a user would look at hold them.
std::vector<float> quantized(const Tensor& images) {
  std::vector<float> v = images.to_host();
  for (float& x : v) x = static_cast<float>(to_byte(x)) / 127.5f - 1.0f;
  return v;
}

struct JudgeView {
  std::vector<float> features, logits;  // (n, F), (n, heads)
};

JudgeView judge_view(Classifier& judge, const std::vector<float>& images, int64_t n, int64_t s) {
  NoGrad no_grad;
  const Tensor f = judge.features(Tensor::from_host({n, 3, s, s}, images));
  return {f.to_host(), judge.logits_from_features(f).to_host()};
}

void append_rows(Matrix& m, const std::vector<float>& rows, int64_t cols) {
  for (float v : rows) m.values.push_back(v);
  m.rows += static_cast<int64_t>(rows.size()) / cols;
  m.cols = cols;
}

}  // namespace

CdvaeScores score_cdvae(CdvaeGan& model, Classifier& judge, const std::vector<std::string>& judge_heads,
                        const WorldSpec& spec, const WorldUnits& units, int64_t batch) {
  const CdvaeSpec& ms = model.spec();
  const int64_t k_count = ms.num_attributes(), s = ms.image_size, image = 3 * s * s, wk = spec.num_attributes();
  CFGAN_CHECK(ms.channels == 3 && s == spec.image_size && judge.spec().image_size == s && judge.spec().channels == 3,
              "score_cdvae: the model, the judge and the world must all make 3x", spec.image_size, " images");
  std::vector<int> head(static_cast<size_t>(k_count)), world(static_cast<size_t>(k_count));
  for (int64_t k = 0; k < k_count; ++k) {
    const auto it = std::find(judge_heads.begin(), judge_heads.end(), ms.attributes[k]);
    CFGAN_CHECK(it != judge_heads.end(), "--judge: it has no head for the model's attribute '", ms.attributes[k], "'");
    head[k] = static_cast<int>(it - judge_heads.begin());
    world[k] = spec.index_of(ms.attributes[k], "the world");
  }
  const int64_t heads = static_cast<int64_t>(judge_heads.size()), feats = judge.spec().features;

  struct Sums {
    double deceived = 0, deceived_on = 0, n_on = 0;
    double kept_desc = 0, n_desc = 0, kept_other = 0, n_other = 0, kept_other_rec = 0;
    double l1_direct = 0, l1_total = 0, f_direct = 0, f_total = 0;
    double truth_read = 0;
  };
  std::vector<Sums> sums(static_cast<size_t>(k_count));
  Matrix real, recon_m, cf_m, truth_direct_m, truth_total_m;
  double recon_l1 = 0;
  std::vector<uint8_t> pixels(static_cast<size_t>(batch * image));
  std::vector<int8_t> attrs(static_cast<size_t>(batch * wk)), scratch(attrs.size());

  for (int64_t b = 0; b < units.count; b += batch) {
    const int64_t n = std::min(batch, units.count - b);
    render_units(spec, units, b, n, nullptr, Effect::total, pixels.data(), attrs.data());
    const Tensor x = pixels_to_tensor(pixels.data(), n, 3, s, s);
    const std::vector<float> xv = x.to_host();
    const JudgeView jx = judge_view(judge, xv, n, s);
    append_rows(real, jx.features, feats);
    const std::vector<float> rec = quantized(model.counterfactual(x, {}));
    const JudgeView jr = judge_view(judge, rec, n, s);
    append_rows(recon_m, jr.features, feats);
    for (size_t i = 0; i < rec.size(); ++i) recon_l1 += std::abs(rec[i] - xv[i]);

    for (int64_t k = 0; k < k_count; ++k) {
      const std::vector<float> cf = quantized(model.counterfactual(x, {static_cast<int>(k)}));
      const JudgeView jc = judge_view(judge, cf, n, s);
      append_rows(cf_m, jc.features, feats);
      Sums& t = sums[k];
      for (int64_t i = 0; i < n; ++i) {
        const bool flipped_on = attrs[i * wk + world[k]] < 0;  // the counterfactual's value of k
        const bool deceived = (jc.logits[i * heads + head[k]] >= 0) == flipped_on;
        t.deceived += deceived;
        if (flipped_on) t.deceived_on += deceived, ++t.n_on;
        for (int64_t j = 0; j < k_count; ++j) {
          if (j == k) continue;
          const bool reads = jc.logits[i * heads + head[j]] >= 0;
          const bool kept = reads == (jx.logits[i * heads + head[j]] >= 0);
          if (spec.is_descendant(world[j], world[k])) {
            t.kept_desc += kept, ++t.n_desc;
          } else {
            t.kept_other += kept, ++t.n_other;
            t.kept_other_rec += reads == (jr.logits[i * heads + head[j]] >= 0);
          }
        }
      }
      for (Effect effect : {Effect::direct, Effect::total}) {
        render_units(
            spec, units, b, n,
            [&](int64_t unit) {
              Intervention flip(static_cast<size_t>(wk), 0);
              flip[world[k]] = static_cast<int8_t>(-attrs[(unit - b) * wk + world[k]]);
              return flip;
            },
            effect, pixels.data(), scratch.data());
        const std::vector<float> truth = pixels_to_tensor(pixels.data(), n, 3, s, s).to_host();
        const JudgeView jt = judge_view(judge, truth, n, s);
        append_rows(effect == Effect::direct ? truth_direct_m : truth_total_m, jt.features, feats);
        if (effect == Effect::direct) {
          for (int64_t i = 0; i < n; ++i)
            t.truth_read += (jt.logits[i * heads + head[k]] >= 0) == (attrs[i * wk + world[k]] < 0);
        }
        double l1 = 0, fd = 0;
        for (size_t i = 0; i < truth.size(); ++i) l1 += std::abs(cf[i] - truth[i]);
        for (int64_t i = 0; i < n; ++i) {
          double sq = 0;
          for (int64_t f = 0; f < feats; ++f) {
            const double d = jc.features[i * feats + f] - jt.features[i * feats + f];
            sq += d * d;
          }
          fd += std::sqrt(sq);
        }
        (effect == Effect::direct ? t.l1_direct : t.l1_total) += l1 / image;
        (effect == Effect::direct ? t.f_direct : t.f_total) += fd;
      }
    }
  }

  const double nan = std::numeric_limits<double>::quiet_NaN(), u = static_cast<double>(units.count);
  CdvaeScores out;
  out.units = units.count;
  out.reconstruction_l1 = recon_l1 / (u * image);
  out.fd_reconstructions = frechet_distance(real, recon_m);
  out.fd_counterfactuals = frechet_distance(real, cf_m);
  out.fd_direct_truth = frechet_distance(real, truth_direct_m);
  out.fd_total_truth = frechet_distance(real, truth_total_m);
  for (int64_t k = 0; k < k_count; ++k) {
    const Sums& t = sums[k];
    out.attributes.push_back({ms.attributes[k], t.deceived / u, t.n_desc ? t.kept_desc / t.n_desc : nan,
                              t.n_other ? t.kept_other / t.n_other : nan,
                              t.n_other ? t.kept_other_rec / t.n_other : nan, t.l1_direct / u, t.l1_total / u,
                              t.f_direct / u, t.f_total / u});
    CdvaeAttributeScores& a = out.attributes.back();
    a.deception_to_on = t.n_on ? t.deceived_on / t.n_on : nan;
    a.deception_to_off = t.n_on < u ? (t.deceived - t.deceived_on) / (u - t.n_on) : nan;
    a.units_to_on = static_cast<int64_t>(t.n_on);
    a.judge_reads_truth = t.truth_read / u;
  }
  return out;
}

}  // namespace cfgan
