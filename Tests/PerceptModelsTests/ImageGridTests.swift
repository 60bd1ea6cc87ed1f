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

final class RetrievalGridTests: XCTestCase {
    func testRowsFramesAndLabels() {
        let red = Image(width: 2, height: 2, fill: (255, 0, 0))
        let blue = Image(width: 2, height: 2, fill: (0, 0, 255))
        var grid = RetrievalGrid(scale: 3)
        grid.borderWidth = 1
        grid.spacing = 2
        grid.queryGap = 4
        let row = RetrievalGrid.Row(query: .init(image: red, label: "a"),
                                    neighbors: [.init(image: red, label: "a"), .init(image: blue, label: "b")])
        let canvas = grid.render([row, row])
        // Cells: 2·3 + 2·1 = 8 wide, 8 + 10 (label strip) tall; 3 columns, a query gap of 4, spacing 2.
        XCTAssertEqual(canvas.width, 2 + 3 * (8 + 2) + 4)
        XCTAssertEqual(canvas.height, 2 + 2 * (18 + 2))
        XCTAssertTrue(canvas[2, 2] == (90, 90, 90))                 // query frame
        XCTAssertTrue(canvas[3, 3] == (255, 0, 0))                  // query pixels, enlarged
        let firstNeighbor = 2 + 4 + 10, secondNeighbor = firstNeighbor + 10
        XCTAssertTrue(canvas[firstNeighbor, 2] == (40, 170, 70))    // same label: green
        XCTAssertTrue(canvas[secondNeighbor, 2] == (210, 40, 40))   // other label: red
        XCTAssertTrue(canvas[secondNeighbor + 1, 3] == (0, 0, 255))
        // The label strip under the query holds dark text pixels ("A").
        let strip = (12..<20).flatMap { y in (2..<8).map { x in canvas[x, y] } }
        XCTAssertTrue(strip.contains { $0 == (40, 40, 40) })
    }
}
