import XCTest
import PerceptImage
import PerceptReports

final class ImageGridTests: XCTestCase {
    func testLayoutScaleAndBorders() {
        let red = Image(width: 1, height: 1, fill: (255, 0, 0))
        let blue = Image(width: 1, height: 1, fill: (0, 0, 255))
        let grid = ImageGrid(columns: 2, scale: 2, borderWidth: 1, spacing: 1, background: (9, 9, 9))
        let canvas = grid.render([.init(image: red, border: ImageGrid.right), .init(image: blue, border: nil),
                                  .init(image: blue, border: ImageGrid.wrong)])
        // Cells are 1·2 + 2·1 = 4 pixels; two columns and two rows with 1-pixel spacing: 1+4+1+4+1 = 11.
        XCTAssertEqual(canvas.width, 11)
        XCTAssertEqual(canvas.height, 11)
        XCTAssertTrue(canvas[0, 0] == (9, 9, 9))                        // spacing
        XCTAssertTrue(canvas[1, 1] == ImageGrid.right)                  // first cell's border
        XCTAssertTrue(canvas[2, 2] == (255, 0, 0) && canvas[3, 3] == (255, 0, 0))  // enlarged pixel
        XCTAssertTrue(canvas[6, 1] == (9, 9, 9))                        // no border: background shows
        XCTAssertTrue(canvas[7, 2] == (0, 0, 255))
        XCTAssertTrue(canvas[1, 6] == ImageGrid.wrong)                  // second row
        XCTAssertTrue(canvas[9, 9] == (9, 9, 9))                        // empty slot
    }
}
