#include "models/contrastive/estimators.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "engine/error.h"

namespace cfgan {

CausalScores contrastive_scores(const std::string& attribute, const std::vector<ContrastiveUnit>& units) {
  int64_t nec_hits = 0, nec_count = 0, suf_hits = 0, suf_count = 0, both = 0;
  for (const ContrastiveUnit& u : units) {
    const bool o_on = u.x ? u.o : u.o_flipped, o_off = u.x ? u.o_flipped : u.o;  // o_{X<-x}, o_{X<-x'}
    if (u.x && u.o) nec_count++, nec_hits += !o_off;
    if (!u.x && !u.o) suf_count++, suf_hits += o_on;
    both += o_on && !o_off;
  }
  return {attribute, wilson(nec_hits, nec_count), wilson(suf_hits, suf_count),
          wilson(both, static_cast<int64_t>(units.size()))};
}

LewisScores lewis_scores(const ObservationalTable& table, int x, const std::vector<int>& adjustment,
                         const std::string& attribute) {
  CFGAN_CHECK(x >= 0 && x < table.width, "lewis_scores: column ", x, " of a table ", table.width, " wide");
  CFGAN_CHECK(static_cast<int64_t>(table.attributes.size()) == table.rows * table.width &&
                  static_cast<int64_t>(table.decision.size()) == table.rows,
              "lewis_scores: the table's columns do not match its ", table.rows, " rows");
  for (int c : adjustment)
    CFGAN_CHECK(c >= 0 && c < table.width && c != x, "lewis_scores: adjustment column ", c,
                " must be another column of the table (X is ", x, ")");

  // Per stratum (the adjustment columns' values as a bit pattern): counts of (X, O).
  struct Counts {
    int64_t n[2][2] = {{0, 0}, {0, 0}};  // [x on][o]
    int64_t with(int v) const { return n[v][0] + n[v][1]; }
  };
  std::map<uint64_t, Counts> strata;
  for (int64_t r = 0; r < table.rows; ++r) {
    const int8_t* a = table.attributes.data() + r * table.width;
    uint64_t key = 0;
    for (size_t j = 0; j < adjustment.size(); ++j) key |= static_cast<uint64_t>(a[adjustment[j]] > 0) << j;
    strata[key].n[a[x] > 0][table.decision[r] != 0]++;
  }

  LewisScores s;
  s.attribute = attribute;
  s.strata = static_cast<int64_t>(strata.size());
  int64_t n_xo = 0, n_x_o_ = 0, n_o = 0;  // rows with (x, o), (x', o'), o
  double sum_o_on = 0, sum_o_off = 0;     // sum_c n_c P(o | X = v, c)
  for (const auto& [key, c] : strata) {
    if (c.with(1) == 0 || c.with(0) == 0) {
      s.strata_dropped++;
      continue;
    }
    const int64_t n_c = c.with(1) + c.with(0);
    s.rows_used += n_c;
    n_xo += c.n[1][1];
    n_x_o_ += c.n[0][0];
    n_o += c.n[1][1] + c.n[0][1];
    sum_o_on += static_cast<double>(n_c) * c.n[1][1] / c.with(1);
    sum_o_off += static_cast<double>(n_c) * c.n[0][1] / c.with(0);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (s.rows_used == 0) {
    s.nec = s.suf = s.nesuf = s.nec_raw = s.suf_raw = s.nesuf_raw = nan;
    return s;
  }
  const double n = static_cast<double>(s.rows_used), p_o = n_o / n;
  const double p_o_on = sum_o_on / n, p_o_off = sum_o_off / n;  // P(o_{X<-x}), P(o_{X<-x'})
  s.nec_raw = n_xo > 0 ? (p_o - p_o_off) / (n_xo / n) : nan;
  s.suf_raw = n_x_o_ > 0 ? (p_o_on - p_o) / (n_x_o_ / n) : nan;
  s.nesuf_raw = p_o_on - p_o_off;
  // Over one population these cannot exceed 1 (P(x', o) <= P(o_{X<-x'}) and its twin); they fall
  // below 0 where O decreases with X, which monotonicity rules out: LEWIS clips to [0, 1].
  auto clip = [](double v) { return std::isnan(v) ? v : std::clamp(v, 0.0, 1.0); };
  s.nec = clip(s.nec_raw);
  s.suf = clip(s.suf_raw);
  s.nesuf = clip(s.nesuf_raw);
  return s;
}

}  // namespace cfgan
