package render

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
)

// svgCanvas is a vg.Canvas that writes SVG with its text drawn as the
// outlines of the font's glyphs, each glyph defined once and reused. The
// image then needs no font at all: it renders the same in every browser,
// fetches nothing, and stays small, where gonum's vgsvg either names a
// font the reader may not have or embeds the whole font in every image.
//
// Lengths are points; the image declares one CSS pixel per point.
type svgCanvas struct {
	w, h  vg.Length
	body  bytes.Buffer
	defs  bytes.Buffer
	stack []svgContext
	// glyphs maps a font's glyph to the id of its definition.
	glyphs map[glyphKey]string
	buf    sfnt.Buffer
	// err is the first error met while drawing: vg.Canvas methods
	// cannot return one.
	err error
}

// svgContext is the drawing state Push saves and Pop restores.
type svgContext struct {
	color      color.Color
	lineWidth  vg.Length
	dashes     []vg.Length
	dashOffset vg.Length
	// groups counts the <g> elements opened since the Push.
	groups int
}

type glyphKey struct {
	font string
	idx  sfnt.GlyphIndex
}

var _ vg.CanvasSizer = (*svgCanvas)(nil)

// newSVGCanvas returns an empty canvas of w by h points.
func newSVGCanvas(w, h vg.Length) *svgCanvas {
	c := &svgCanvas{w: w, h: h, stack: []svgContext{{}}, glyphs: map[glyphKey]string{}}
	vg.Initialize(c)
	return c
}

func (c *svgCanvas) ctx() *svgContext { return &c.stack[len(c.stack)-1] }

// Size implements vg.CanvasSizer.
func (c *svgCanvas) Size() (w, h vg.Length) { return c.w, c.h }

// SetLineWidth implements vg.Canvas.
func (c *svgCanvas) SetLineWidth(w vg.Length) { c.ctx().lineWidth = w }

// SetLineDash implements vg.Canvas.
func (c *svgCanvas) SetLineDash(dashes []vg.Length, offset vg.Length) {
	c.ctx().dashes, c.ctx().dashOffset = dashes, offset
}

// SetColor implements vg.Canvas.
func (c *svgCanvas) SetColor(clr color.Color) { c.ctx().color = clr }

// Rotate implements vg.Canvas.
func (c *svgCanvas) Rotate(rad float64) {
	c.group("rotate(" + num(rad*180/math.Pi) + ")")
}

// Translate implements vg.Canvas.
func (c *svgCanvas) Translate(pt vg.Point) {
	c.group("translate(" + num(pt.X.Points()) + "," + num(pt.Y.Points()) + ")")
}

// Scale implements vg.Canvas.
func (c *svgCanvas) Scale(x, y float64) {
	c.group("scale(" + num(x) + "," + num(y) + ")")
}

// group opens a transformed group, closed by the next Pop.
func (c *svgCanvas) group(transform string) {
	fmt.Fprintf(&c.body, "<g transform=\"%s\">\n", transform)
	c.ctx().groups++
}

// Push implements vg.Canvas.
func (c *svgCanvas) Push() {
	top := *c.ctx()
	top.groups = 0
	c.stack = append(c.stack, top)
}

// Pop implements vg.Canvas.
func (c *svgCanvas) Pop() {
	if len(c.stack) == 1 {
		c.fail(errors.New("svg: Pop without Push"))
		return
	}
	for range c.ctx().groups {
		c.body.WriteString("</g>\n")
	}
	c.stack = c.stack[:len(c.stack)-1]
}

// Stroke implements vg.Canvas.
func (c *svgCanvas) Stroke(p vg.Path) {
	ctx := c.ctx()
	if ctx.lineWidth <= 0 {
		return
	}
	fmt.Fprintf(&c.body, `<path d="%s" fill="none" stroke="%s"%s stroke-width="%s"`,
		c.pathData(p), svgColor(ctx.color), opacity("stroke-opacity", ctx.color), num(ctx.lineWidth.Points()))
	if len(ctx.dashes) > 0 {
		ds := make([]string, len(ctx.dashes))
		for i, d := range ctx.dashes {
			ds[i] = num(d.Points())
		}
		fmt.Fprintf(&c.body, ` stroke-dasharray="%s"`, strings.Join(ds, ","))
		if ctx.dashOffset != 0 {
			fmt.Fprintf(&c.body, ` stroke-dashoffset="%s"`, num(ctx.dashOffset.Points()))
		}
	}
	c.body.WriteString("/>\n")
}

// Fill implements vg.Canvas.
func (c *svgCanvas) Fill(p vg.Path) {
	fmt.Fprintf(&c.body, "<path d=\"%s\" fill=\"%s\"%s/>\n",
		c.pathData(p), svgColor(c.ctx().color), opacity("fill-opacity", c.ctx().color))
}

// FillString implements vg.Canvas: it draws text as glyph outlines, laid
// out with the advances and kerning gonum/plot measured it with. The
// group's aria-label keeps the text readable by tools.
func (c *svgCanvas) FillString(f font.Face, pt vg.Point, text string) {
	if f.Font.Size <= 0 || text == "" {
		return
	}
	upem := f.Face.UnitsPerEm()
	// With ppem equal to the units per em, sfnt's 26.6 values are font
	// units, as gonum/plot measures text.
	ppem := fixed.Int26_6(upem)
	scale := f.Font.Size.Points() / float64(upem)
	// A glyph's scale is tiny: it needs significant digits, not
	// hundredths.
	sx := strconv.FormatFloat(scale, 'g', 6, 64)
	name := f.Font.Name()
	fmt.Fprintf(&c.body, "<g fill=\"%s\"%s aria-label=\"%s\">", svgColor(c.ctx().color), opacity("fill-opacity", c.ctx().color), xmlEscape(text))
	var (
		x         fixed.Int26_6
		prev      sfnt.GlyphIndex
		hasPrev   bool
		transform = func(x fixed.Int26_6) string {
			return "translate(" + num(pt.X.Points()+float64(x)*scale) + "," + num(pt.Y.Points()) + ") scale(" + sx + ",-" + sx + ")"
		}
	)
	for _, r := range text {
		idx, err := f.Face.GlyphIndex(&c.buf, r)
		if err != nil {
			c.fail(fmt.Errorf("svg: glyph of %q: %w", r, err))
			break
		}
		if hasPrev {
			kern, err := f.Face.Kern(&c.buf, prev, idx, ppem, 0)
			if err == nil {
				x += kern
			} else if !errors.Is(err, sfnt.ErrNotFound) {
				c.fail(fmt.Errorf("svg: kerning: %w", err))
			}
		}
		id, err := c.glyph(f, name, idx, ppem)
		if err != nil {
			c.fail(err)
			break
		}
		if id != "" {
			fmt.Fprintf(&c.body, `<use xlink:href="#%s" transform="%s"/>`, id, transform(x))
		}
		adv, err := f.Face.GlyphAdvance(&c.buf, idx, ppem, 0)
		if err != nil {
			c.fail(fmt.Errorf("svg: advance of %q: %w", r, err))
			break
		}
		x += adv
		prev, hasPrev = idx, true
	}
	c.body.WriteString("</g>\n")
}

// glyph returns the id of a glyph's definition, defining it on first use;
// "" for a glyph with no outline (a space).
func (c *svgCanvas) glyph(f font.Face, name string, idx sfnt.GlyphIndex, ppem fixed.Int26_6) (string, error) {
	key := glyphKey{name, idx}
	if id, ok := c.glyphs[key]; ok {
		return id, nil
	}
	segs, err := f.Face.LoadGlyph(&c.buf, idx, ppem, nil)
	if err != nil {
		return "", fmt.Errorf("svg: outline of glyph %d: %w", idx, err)
	}
	id := ""
	if len(segs) > 0 {
		id = "g" + strconv.Itoa(len(c.glyphs))
		// Font units, y down; closed contours.
		var d strings.Builder
		for i, s := range segs {
			switch s.Op {
			case sfnt.SegmentOpMoveTo:
				if i > 0 {
					d.WriteString("Z")
				}
				fmt.Fprintf(&d, "M%d %d", s.Args[0].X, s.Args[0].Y)
			case sfnt.SegmentOpLineTo:
				fmt.Fprintf(&d, "L%d %d", s.Args[0].X, s.Args[0].Y)
			case sfnt.SegmentOpQuadTo:
				fmt.Fprintf(&d, "Q%d %d %d %d", s.Args[0].X, s.Args[0].Y, s.Args[1].X, s.Args[1].Y)
			case sfnt.SegmentOpCubeTo:
				fmt.Fprintf(&d, "C%d %d %d %d %d %d", s.Args[0].X, s.Args[0].Y, s.Args[1].X, s.Args[1].Y, s.Args[2].X, s.Args[2].Y)
			}
		}
		d.WriteString("Z")
		fmt.Fprintf(&c.defs, "<path id=\"%s\" d=\"%s\"/>\n", id, d.String())
	}
	c.glyphs[key] = id
	return id, nil
}

// DrawImage implements vg.Canvas, embedding the image as a PNG.
func (c *svgCanvas) DrawImage(rect vg.Rectangle, img image.Image) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		c.fail(fmt.Errorf("svg: encode image: %w", err))
		return
	}
	size := rect.Size()
	fmt.Fprintf(&c.body, "<image x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" transform=\"scale(1,-1)\" xlink:href=\"data:image/png;base64,%s\"/>\n",
		num(rect.Min.X.Points()), num(-rect.Min.Y.Points()-size.Y.Points()), num(size.X.Points()), num(size.Y.Points()),
		base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// fail records the first error.
func (c *svgCanvas) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// WriteTo writes the SVG document, or the first error met while drawing.
func (c *svgCanvas) WriteTo(w io.Writer) (int64, error) {
	if c.err != nil {
		return 0, c.err
	}
	var doc bytes.Buffer
	wpt, hpt := num(c.w.Points()), num(c.h.Points())
	fmt.Fprintf(&doc, `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="%s" height="%s" viewBox="0 0 %s %s">`+"\n", wpt, hpt, wpt, hpt)
	if c.defs.Len() > 0 {
		doc.WriteString("<defs>\n")
		doc.Write(c.defs.Bytes())
		doc.WriteString("</defs>\n")
	}
	fmt.Fprintf(&doc, "<rect width=\"%s\" height=\"%s\" fill=\"#ffffff\"/>\n", wpt, hpt)
	// gonum/plot draws with the origin at the bottom left.
	fmt.Fprintf(&doc, "<g transform=\"scale(1,-1) translate(0,-%s)\">\n", hpt)
	doc.Write(c.body.Bytes())
	for _, ctx := range c.stack {
		for range ctx.groups {
			doc.WriteString("</g>\n")
		}
	}
	doc.WriteString("</g>\n</svg>\n")
	return doc.WriteTo(w)
}

// pathData is the SVG path data of a vg.Path.
func (c *svgCanvas) pathData(p vg.Path) string {
	var d strings.Builder
	var x, y float64
	for _, comp := range p {
		switch comp.Type {
		case vg.MoveComp:
			x, y = comp.Pos.X.Points(), comp.Pos.Y.Points()
			d.WriteString("M" + num(x) + "," + num(y))
		case vg.LineComp:
			x, y = comp.Pos.X.Points(), comp.Pos.Y.Points()
			d.WriteString("L" + num(x) + "," + num(y))
		case vg.ArcComp:
			x, y = arcData(&d, comp, x, y)
		case vg.CurveComp:
			switch len(comp.Control) {
			case 1:
				d.WriteString("Q" + num(comp.Control[0].X.Points()) + "," + num(comp.Control[0].Y.Points()))
			case 2:
				d.WriteString("C" + num(comp.Control[0].X.Points()) + "," + num(comp.Control[0].Y.Points()) +
					"," + num(comp.Control[1].X.Points()) + "," + num(comp.Control[1].Y.Points()))
			default:
				c.fail(fmt.Errorf("svg: curve with %d control points", len(comp.Control)))
				continue
			}
			x, y = comp.Pos.X.Points(), comp.Pos.Y.Points()
			d.WriteString("," + num(x) + "," + num(y))
		case vg.CloseComp:
			d.WriteString("Z")
		}
	}
	return d.String()
}

// arcData writes an arc from the current point (x, y) and returns its end.
// SVG cannot draw a full circle as one arc, so a circle is two halves.
func arcData(d *strings.Builder, comp vg.PathComp, x, y float64) (float64, float64) {
	r := comp.Radius.Points()
	cx, cy := comp.Pos.X.Points(), comp.Pos.Y.Points()
	at := func(a float64) (float64, float64) {
		s, c := math.Sincos(a)
		return cx + r*c, cy + r*s
	}
	x0, y0 := at(comp.Start)
	if x0 != x || y0 != y {
		d.WriteString("L" + num(x0) + "," + num(y0))
	}
	angle := comp.Angle
	if math.Abs(angle) >= 2*math.Pi {
		angle = math.Copysign(2*math.Pi, angle)
	}
	sweep := 0
	if angle > 0 {
		sweep = 1
	}
	// Split into arcs of at most half a turn: no large-arc flag needed,
	// and a full circle's ends never coincide within one arc.
	n := int(math.Ceil(math.Abs(angle) / math.Pi))
	for i := 1; i <= n; i++ {
		x, y = at(comp.Start + angle*float64(i)/float64(n))
		fmt.Fprintf(d, "A%s,%s 0 0 %d %s,%s", num(r), num(r), sweep, num(x), num(y))
	}
	return x, y
}

// num formats a coordinate to a hundredth of a point.
func num(v float64) string {
	v = math.Round(v*100) / 100
	if v == 0 {
		return "0" // not "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// svgColor is the colour without its alpha, as #rrggbb.
func svgColor(c color.Color) string {
	if c == nil {
		c = color.Black
	}
	nc := color.NRGBAModel.Convert(c).(color.NRGBA)
	return fmt.Sprintf("#%02x%02x%02x", nc.R, nc.G, nc.B)
}

// opacity is the attribute giving a translucent colour's opacity, or ""
// for an opaque one.
func opacity(attr string, c color.Color) string {
	if c == nil {
		return ""
	}
	_, _, _, a := c.RGBA()
	if a == 0xffff {
		return ""
	}
	return " " + attr + "=\"" + strconv.FormatFloat(float64(a)/0xffff, 'f', 3, 64) + "\""
}

// xmlEscape escapes text for an XML attribute.
func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}
