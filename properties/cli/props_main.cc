// cairn-props: merges property reports of many runs and shards and gates on them.
//
//   cairn-props merge A.jsonl B.jsonl ... --out REPORT.json [--rare FILE]
//
// Exit status: 0 when every property passed, 1 when a property failed or a must-hit
// property was never hit (and is not listed in the rare file), 2 on usage or input errors.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "properties/report.h"

#ifndef CAIRN_GIT_COMMIT
#define CAIRN_GIT_COMMIT "unknown"
#endif

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn-props: merge and gate property reports (Antithesis JSONL)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("cairn-props commit ") + CAIRN_GIT_COMMIT);
  std::vector<std::string> inputs;
  std::string out_path;
  std::string rare_path;
  CLI::App* merge = app.add_subcommand("merge", "combine runs and shards into one report");
  merge->add_option("inputs", inputs, "property JSONL files, one per run or shard")->required();
  merge->add_option("--out", out_path, "merged JSON report to write");
  merge->add_option("--rare", rare_path, "file listing must-hit properties allowed to stay unhit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  cairn::props::ReportMerger merger;
  for (const std::string& path : inputs) {
    std::string text;
    if (!read_file(path, text)) {
      std::fprintf(stderr, "cairn-props: cannot read %s\n", path.c_str());
      return 2;
    }
    std::string error = merger.add_run(text, path);
    if (!error.empty()) {
      std::fprintf(stderr, "cairn-props: %s\n", error.c_str());
      return 2;
    }
  }
  std::vector<std::string> rare;
  if (!rare_path.empty()) {
    std::string text;
    if (!read_file(rare_path, text)) {
      std::fprintf(stderr, "cairn-props: cannot read rare list %s\n", rare_path.c_str());
      return 2;
    }
    rare = cairn::props::parse_rare_list(text);
  }
  cairn::props::MergedReport report = merger.finish(rare);
  std::fputs(cairn::props::render_table(report).c_str(), stdout);
  if (!out_path.empty()) {
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    out << cairn::props::render_json(report);
    if (!out) {
      std::fprintf(stderr, "cairn-props: cannot write %s\n", out_path.c_str());
      return 2;
    }
  }
  return report.passed() ? 0 : 1;
}
