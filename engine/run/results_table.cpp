#include "engine/run/results_table.h"

#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "engine/run/progress.h"

namespace cfgan {
namespace {

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  for (std::string v; std::getline(in, v, ',');) fields.push_back(v);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

}  // namespace

ResultsTable::ResultsTable(std::vector<std::string> columns) : columns_(std::move(columns)) {}

void ResultsTable::attach_csv(const std::string& path, bool resume) {
  csv_path_ = path;
  std::ifstream in;
  if (resume) in.open(path);
  std::string line;
  if (!resume || !std::getline(in, line)) {
    std::ofstream out(path);
    out << join(columns_, ",") << "\n";
    CFGAN_CHECK(out, path, ": cannot write");
    return;
  }
  CFGAN_CHECK(line == join(columns_, ","), path, ": its header '", line, "' is not this table's (", join(columns_, ","),
              ")");
  for (int64_t n = 2; std::getline(in, line); ++n) {
    const std::vector<std::string> f = split_csv(line);
    CFGAN_CHECK(f.size() == columns_.size(), path, ":", n, ": ", f.size(), " fields, expected ", columns_.size());
    Row row;
    for (size_t i = 0; i < f.size(); ++i) row[columns_[i]] = f[i];
    rows_.push_back(std::move(row));
  }
}

void ResultsTable::add(const Row& row) {
  std::vector<std::string> fields;
  for (const std::string& c : columns_) {
    const auto it = row.find(c);
    CFGAN_CHECK(it != row.end(), "results table: the row lacks column '", c, "'");
    CFGAN_CHECK(it->second.find(',') == std::string::npos, "results table: value '", it->second, "' of column '", c,
                "' holds a comma");
    fields.push_back(it->second);
  }
  CFGAN_CHECK(row.size() == columns_.size(), "results table: the row has columns the table does not");
  rows_.push_back(row);
  if (csv_path_.empty()) return;
  std::ofstream out(csv_path_, std::ios::app);
  out << join(fields, ",") << "\n";
  CFGAN_CHECK(out, csv_path_, ": cannot append");
}

double ResultsTable::number(const Row& row, const std::string& column) {
  const auto it = row.find(column);
  CFGAN_CHECK(it != row.end(), "results table: no column '", column, "'");
  try {
    size_t used = 0;
    const double v = std::stod(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  fail("results table: column '", column, "' holds '", it->second, "', not a number");
}

std::vector<ResultsTable::Group> ResultsTable::group_by(const std::vector<std::string>& keys,
                                                        const std::function<bool(const Row&)>& keep) const {
  std::vector<Group> groups;
  std::map<std::vector<std::string>, size_t> index;
  for (const Row& row : rows_) {
    std::vector<std::string> key;
    for (const std::string& k : keys) key.push_back(row.at(k));
    auto [it, fresh] = index.emplace(key, groups.size());
    if (fresh) groups.emplace_back();
    if (!keep || keep(row)) groups[it->second].push_back(&row);
  }
  return groups;
}

std::function<double(const ResultsTable::Row&)> column_value(const std::string& column, double scale) {
  return [column, scale](const ResultsTable::Row& row) { return scale * ResultsTable::number(row, column); };
}

double group_mean(const ResultsTable::Group& group, const std::string& column) {
  double sum = 0;
  for (const auto* row : group) sum += ResultsTable::number(*row, column);
  return group.empty() ? 0.0 : sum / static_cast<double>(group.size());
}

std::string markdown_summary(const ResultsTable& table, const std::vector<KeyColumn>& keys,
                             const std::vector<SummaryColumn>& summaries,
                             const std::function<bool(const ResultsTable::Row&)>& keep) {
  std::vector<std::string> headers, key_columns;
  for (const KeyColumn& k : keys) headers.push_back(k.header), key_columns.push_back(k.column);
  for (const SummaryColumn& s : summaries) headers.push_back(s.header);
  std::string out = "| " + join(headers, " | ") + " |\n|";
  for (size_t i = 0; i < headers.size(); ++i) out += "---|";
  out += "\n";
  const auto all = table.group_by(key_columns);
  const auto kept = table.group_by(key_columns, keep);
  for (size_t g = 0; g < all.size(); ++g) {
    std::vector<std::string> cells;
    for (const std::string& k : key_columns) cells.push_back(all[g].front()->at(k));
    for (const SummaryColumn& s : summaries) {
      std::vector<double> values;
      if (s.stat != SummaryColumn::Stat::count)
        for (const auto* row : kept[g]) values.push_back(s.value(*row));
      if (s.stat == SummaryColumn::Stat::count) {
        cells.push_back(std::to_string(kept[g].size()));
      } else if (s.stat == SummaryColumn::Stat::sum) {
        double total = 0;
        for (double v : values) total += v;
        cells.push_back(cat(total));
      } else {
        cells.push_back(values.empty() ? "–" : format_mean_std(values, s.decimals));
      }
    }
    out += "| " + join(cells, " | ") + " |\n";
  }
  return out;
}

}  // namespace cfgan
