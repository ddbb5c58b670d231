// Boxes drawn over a camera tile. The server gives them in preview pixels (the 640-px image the
// tile shows); the canvas takes the preview's size, and CSS stretches both the same way.

export function fitCanvas(canvas, img) {
  const width = img.naturalWidth || 640;
  const height = img.naturalHeight || 360;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
}

// shapes: [{quad: [[x,y]x4]} | {box: {left, top, width, height}}, colour, label]
export function drawShapes(canvas, img, shapes) {
  fitCanvas(canvas, img);
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = 3;
  ctx.font = "bold 16px DejaVu Sans, sans-serif";
  for (const shape of shapes) {
    ctx.strokeStyle = shape.colour;
    ctx.fillStyle = shape.colour;
    ctx.beginPath();
    let labelAt;
    if (shape.quad) {
      shape.quad.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
      ctx.closePath();
      labelAt = shape.quad[0];
    } else {
      const b = shape.box;
      ctx.rect(b.left, b.top, b.width, b.height);
      labelAt = [b.left, b.top];
    }
    ctx.stroke();
    if (shape.label) ctx.fillText(shape.label, labelAt[0], Math.max(16, labelAt[1] - 6));
  }
}
