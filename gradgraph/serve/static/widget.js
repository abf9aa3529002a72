// The notebook widget (gg.widget, through anywidget): the playground's diagram and its
// derivation view in an output cell. gradgraph/widget.py inlines this module and the
// ones it imports into one ES module, so nothing is fetched: no network, no CDN.
// The model's traits (gradgraph/widget.py): svg, message, nodes, cost, derivations,
// and selected (a node id, synced both ways).

import { clear, h } from './dom.js';
import { Diagram } from './diagram.js';
import { derivationView } from './maths.js';

function nodeButtons(nodes, pick) {
  return h('p', { class: 'gg-nodes' }, nodes.map((n) => h('button', {
    type: 'button', class: 'small', text: n.unicode, on: { click: () => pick(n.id) },
  })));
}

function render({ model, el }) {
  const picture = h('div', { class: 'diagram' });
  const panel = h('div', { class: 'gg-panel', attrs: { 'aria-live': 'polite' } });
  const nodes = model.get('nodes');
  const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
  const pick = (id) => {
    model.set('selected', id);
    model.save_changes();
  };
  const diagram = new Diagram(picture, {
    names: Object.fromEntries(nodes.map((n) => [n.id, n.unicode])),
    onPick: (id, kind) => { if (kind === 'node') pick(id); },
  });
  el.append(h('div', { class: 'gg-widget' }, picture, panel));
  // Without Graphviz the picture says why; the nodes are still there to pick.
  if (!diagram.show(model.get('svg'), model.get('message'))) picture.append(nodeButtons(nodes, pick));

  const show = () => {
    const id = model.get('selected');
    diagram.select(id);
    const node = byId[id];
    const d = model.get('derivations')[id];
    if (d) {
      clear(panel, h('h3', { text: `How the adjoint of ${node.unicode} is built` }),
        derivationView(d, { onFactor: (edge) => diagram.mark('gg-lit', edge ? [edge] : []) }));
    } else if (node) {
      clear(panel, h('p', { class: 'placeholder', text: `${node.unicode} is the output: ∂${node.unicode}/∂${node.unicode} = 1, where the backward pass starts.` }));
    } else {
      clear(panel, h('p', { class: 'placeholder', text: 'Click a node for its adjoint’s derivation.' }));
    }
  };
  show();
  model.on('change:selected', show);
  return () => model.off('change:selected', show);
}

export default { render };
