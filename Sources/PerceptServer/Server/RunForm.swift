import Foundation
import Percept

/// The dataset page's "train a model" form: one choice per family in `ModelRegistry` (never a
/// hard-coded list) and, per family, a field for each of its parameters with its default as placeholder.
/// The page's script sends only the fields filled in, so the family's defaults apply to the rest.
enum RunForm {
    static func html(datasetId: Int64) -> String {
        let families = ModelRegistry.families
        let choices = families.map { family in
            "<option value=\"\(PageLayout.escaped(family.name))\">\(PageLayout.escaped(family.name)) — \(PageLayout.escaped(family.summary))</option>"
        }.joined()
        let fieldsets = families.enumerated().map { index, family in
            "<fieldset data-family=\"\(PageLayout.escaped(family.name))\"\(index == 0 ? "" : " class=\"hidden\"")>"
                + "<legend>\(PageLayout.escaped(family.name)) options</legend>"
                + family.parameters.map(field).joined() + "</fieldset>"
        }.joined()
        return """
            <h2>Train a model</h2>
            <form id="run-form" class="js-run" data-dataset="\(datasetId)" action="/api/datasets/\(datasetId)/runs" method="post">
            <label>Model family <select name="model">\(choices)</select></label>
            \(fieldsets)
            <button type="submit">Start training</button>
            <p class="form-status" role="status"></p>
            </form>
            """
    }

    /// One parameter's input; its name is the option's (`k`, `lr`), left empty for the default.
    private static func field(_ parameter: ModelParameter) -> String {
        let name = PageLayout.escaped(parameter.name)
        let help = PageLayout.escaped(parameter.help)
        let placeholder = PageLayout.escaped(parameter.defaultValue ?? "automatic")
        let input: String
        switch parameter.kind {
        case .flag:
            input = "<input type=\"checkbox\" name=\"\(name)\" value=\"true\">"
        case .choice(let words):
            input = "<select name=\"\(name)\"><option value=\"\">default (\(placeholder))</option>"
                + words.map { "<option>\(PageLayout.escaped($0))</option>" }.joined() + "</select>"
        case .integer(let minimum):
            input = "<input type=\"number\" name=\"\(name)\" min=\"\(minimum)\" step=\"1\" placeholder=\"\(placeholder)\">"
        case .number:
            input = "<input type=\"text\" inputmode=\"decimal\" name=\"\(name)\" placeholder=\"\(placeholder)\">"
        case .text:
            input = "<input type=\"text\" name=\"\(name)\" placeholder=\"\(placeholder)\">"
        }
        return "<label title=\"\(help)\"><span>\(name)</span> \(input) <small>\(help)</small></label>"
    }
}
