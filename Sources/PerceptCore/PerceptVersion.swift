/// The one version string: `percept --version`, reports and files Percept writes all say this.
public enum PerceptVersion {
    public static let current = "0.3.0"
}
