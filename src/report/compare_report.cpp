#include "report/compare_report.h"

#include "models/metrics.h"
#include "report/charts.h"
#include "report/html.h"
#include "report/markup.h"

namespace mn::report {

std::string compare_report_html(const CompareRun& run) {
    const uint8_t* labels = run.labels.labels.data();
    const int64_t n = run.a.count;
    const PairCounts pc = pair_counts(labels, run.a.predictions.data(), run.b.predictions.data(), n);

    std::string body = "<table id=\"models\">\n<tr><th></th><th class=\"name\">model file</th><th>accuracy</th><th>right</th><th>mean loss</th></tr>\n";
    for (int k = 0; k < 2; ++k) {
        const EvalResult& r = k ? run.b : run.a;
        body += strf("<tr data-model=\"%c\" data-accuracy=\"%.6f\"><th>%c</th><td class=\"name\">", k ? 'B' : 'A', r.accuracy(), k ? 'B' : 'A') +
                escape_xml(k ? run.name_b : run.name_a) +
                strf("</td><td>%.2f%%</td><td>%lld</td><td>%.4f</td></tr>\n", 100.0 * r.accuracy(), static_cast<long long>(r.correct), r.loss);
    }
    body += "</table>\n";
    body += strf("<p id=\"disagree\" data-count=\"%lld\">They answer <b>%lld</b> of %lld images differently (%.2f%%): A is right on "
                 "%lld of them, B on %lld, neither on %lld.</p>\n",
                 static_cast<long long>(pc.disagree), static_cast<long long>(pc.disagree), static_cast<long long>(n),
                 100.0 * double(pc.disagree) / double(n), static_cast<long long>(pc.only_a), static_cast<long long>(pc.only_b),
                 static_cast<long long>(pc.disagree - pc.only_a - pc.only_b));
    body += "<h2>Who got what right (McNemar's table)</h2>\n";
    body += strf("<table id=\"pairs\">\n<tr><th></th><th>B right</th><th>B wrong</th></tr>\n"
                 "<tr><th>A right</th><td data-cell=\"both\">%lld</td><td data-cell=\"only_a\">%lld</td></tr>\n"
                 "<tr><th>A wrong</th><td data-cell=\"only_b\">%lld</td><td data-cell=\"neither\">%lld</td></tr>\n</table>\n",
                 static_cast<long long>(pc.both), static_cast<long long>(pc.only_a), static_cast<long long>(pc.only_b),
                 static_cast<long long>(pc.neither));
    body += strf("<p id=\"mcnemar\">McNemar's chi-square (with continuity correction) on the %lld images exactly one model got "
                 "right: %.2f, p = %.3g%s</p>\n",
                 static_cast<long long>(pc.only_a + pc.only_b), pc.mcnemar_chi2(), pc.mcnemar_p(),
                 pc.mcnemar_p() < 0.05 ? " (the difference in accuracy is unlikely to be chance)" : " (a difference this size can be chance)");

    body += "<h2>Recall per class</h2>\n";
    auto file_name = [](const std::string& path) { return path.substr(path.find_last_of('/') + 1); };
    Series ra{"A: " + file_name(run.name_a), "a", "#4a7fc1", {}}, rb{"B: " + file_name(run.name_b), "b", "#e08a2c", {}};
    std::vector<std::string> groups;
    const std::vector<ClassScores> sa = class_scores(confusion_matrix(labels, run.a.predictions.data(), n, run.n_classes));
    const std::vector<ClassScores> sb = class_scores(confusion_matrix(labels, run.b.predictions.data(), n, run.n_classes));
    for (int c = 0; c < run.n_classes; ++c) {
        groups.push_back(std::to_string(c));
        ra.points.emplace_back(c, sa[size_t(c)].recall);
        rb.points.emplace_back(c, sb[size_t(c)].recall);
    }
    body += grouped_bars_svg("recall per class (share of each digit recognised)", groups, ra, rb, "class-recall");

    std::string gallery;
    size_t shown = 0;
    for (int64_t i = 0; i < n && shown < run.max_images; ++i) {
        const int pa = run.a.predictions[size_t(i)], pb = run.b.predictions[size_t(i)];
        if (pa == pb) continue;
        ++shown;
        const int label = labels[i];
        auto side = [&](char name, int pred, float prob) {
            return strf("%c: %s%d%s (%.2f)", name, pred == label ? "<b>" : "", pred, pred == label ? "</b>" : "", prob);
        };
        gallery += digit_figure(run.images.image(i), run.images.rows, run.images.cols,
                                strf("class=\"disagreement\" data-index=\"%lld\" data-label=\"%d\" data-a=\"%d\" data-b=\"%d\"",
                                     static_cast<long long>(i), label, pa, pb),
                                strf("#%lld: true %d<br>", static_cast<long long>(i), label) + side('A', pa, run.a.confidences[size_t(i)]) +
                                    "<br>" + side('B', pb, run.b.confidences[size_t(i)]));
    }
    body += strf("<h2>Images they answer differently (%zu of %lld shown)</h2>\n<p class=\"note\">The right answer in bold; in "
                 "brackets, the probability each model gives its answer.</p>\n<div class=\"gallery\" id=\"disagreements\">\n",
                 shown, static_cast<long long>(pc.disagree)) +
            gallery + "</div>\n";
    body += "<h2>Settings and timings</h2>\n" + key_value_table(run.settings, "settings");
    return html_page("mnist compare report", body);
}

}  // namespace mn::report
