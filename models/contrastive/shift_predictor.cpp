#include "models/contrastive/shift_predictor.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/ops.h"

namespace cfgan {

std::string ShiftSpec::to_json() const {
  return nlohmann::json{{"latent_dim", latent_dim},
                        {"targets", targets},
                        {"hidden", hidden},
                        {"dropout1", dropout1},
                        {"dropout2", dropout2}}
      .dump();
}

ShiftSpec ShiftSpec::from_json(const std::string& text) {
  ShiftSpec spec;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    spec.latent_dim = j.at("latent_dim").get<int64_t>();
    spec.targets = j.at("targets").get<std::vector<std::string>>();
    spec.hidden = j.at("hidden").get<int64_t>();
    spec.dropout1 = j.at("dropout1").get<float>();
    spec.dropout2 = j.at("dropout2").get<float>();
  } catch (const nlohmann::json::exception& e) {
    fail("shift predictor description is invalid: ", e.what(), " in ", text);
  }
  spec.validate();
  return spec;
}

void ShiftSpec::validate() const {
  CFGAN_CHECK(latent_dim >= 1, "shift predictor: latent size must be >= 1, got ", latent_dim);
  CFGAN_CHECK(!targets.empty(), "--targets: at least one attribute is required");
  CFGAN_CHECK(hidden >= 1, "--hidden: must be >= 1, got ", hidden);
  CFGAN_CHECK(dropout1 >= 0 && dropout1 < 1 && dropout2 >= 0 && dropout2 < 1,
              "shift predictor: dropout probabilities must be in [0, 1), got ", dropout1, " and ", dropout2);
}

ShiftPredictor::ShiftPredictor(const ShiftSpec& spec, Generator& noise) : spec_(spec) {
  spec_.validate();
  const int64_t d = spec_.latent_dim, k = spec_.num_targets(), h = spec_.hidden;
  net_ = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(d + k, h), ReLU(), std::make_shared<Dropout>(spec_.dropout1, noise),
      std::make_shared<Linear>(h, h), ReLU(), std::make_shared<Dropout>(spec_.dropout2, noise),
      std::make_shared<Linear>(h, d)});
  register_module("net", net_);
}

Tensor ShiftPredictor::shift(const Tensor& w, const Tensor& t) {
  const int64_t d = spec_.latent_dim, k = spec_.num_targets();
  CFGAN_CHECK(w.ndim() == 2 && w.dim(1) == d, "shift predictor: latent codes must be (N, ", d, "), got ",
              w.shape().str());
  CFGAN_CHECK(t.ndim() == 2 && t.dim(0) == w.dim(0) && t.dim(1) == k, "shift predictor: targets must be (", w.dim(0),
              ", ", k, "), got ", t.shape().str());
  return net_->forward(concat({w, t}, 1));
}

Tensor draw_targets(int64_t n, int64_t k, Generator& noise, Device device) {
  CFGAN_CHECK(k >= 1 && k <= 19, "draw_targets: 1..19 attributes, got ", k);  // 3^k fits a float's mantissa
  const std::vector<float> u = Tensor::rand({n}, noise).to_host();
  const int64_t choices = static_cast<int64_t>(std::pow(3.0, static_cast<double>(k))) - 1, zero = choices / 2;
  std::vector<float> t(static_cast<size_t>(n * k));
  for (int64_t i = 0; i < n; ++i) {
    // An index in base 3, digit j -> t_j = digit - 1; the all-zero vector is the middle index
    // (every digit 1), which the draw steps over.
    int64_t index = std::min<int64_t>(choices - 1, static_cast<int64_t>(u[i] * static_cast<float>(choices)));
    if (index >= zero) ++index;
    for (int64_t j = 0; j < k; ++j, index /= 3) t[i * k + j] = static_cast<float>(index % 3 - 1);
  }
  return Tensor::from_host({n, k}, t, device);
}

Tensor targets_setting(int64_t attribute, const std::vector<int8_t>& value, int64_t k,
                       const std::vector<int8_t>& others) {
  const int64_t n = static_cast<int64_t>(value.size());
  CFGAN_CHECK(attribute >= 0 && attribute < k, "targets_setting: attribute ", attribute, " of ", k);
  CFGAN_CHECK(others.empty() || static_cast<int64_t>(others.size()) == n * k, "targets_setting: ", n, " rows of ", k,
              " factual values expected, got ", others.size());
  std::vector<float> t(static_cast<size_t>(n * k), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < k && !others.empty(); ++j) t[i * k + j] = others[i * k + j];
    t[i * k + attribute] = value[i];
  }
  return Tensor::from_host({n, k}, t);
}

}  // namespace cfgan
