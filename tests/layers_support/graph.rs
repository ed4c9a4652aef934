//! Directed graphs of module names: strongly connected components (Tarjan) and a shortest cycle
//! through a component, for readable failure messages.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Node to the nodes it imports from; every node is a key, sinks included.
pub(crate) type Graph = BTreeMap<String, BTreeSet<String>>;

/// Adds the edge `from -> to` (and both nodes); self-edges add only the node.
pub(crate) fn add_edge(graph: &mut Graph, from: &str, to: &str) {
    graph.entry(to.to_string()).or_default();
    let targets = graph.entry(from.to_string()).or_default();
    if from != to {
        targets.insert(to.to_string());
    }
}

/// The strongly connected components of two or more nodes (the import cycles), each sorted,
/// in sorted order.
pub(crate) fn knots(graph: &Graph) -> Vec<Vec<String>> {
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !tarjan.index.contains_key(node.as_str()) {
            tarjan.visit(node);
        }
    }
    let mut knots: Vec<Vec<String>> = tarjan
        .found
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut c: Vec<String> = c.into_iter().map(str::to_string).collect();
            c.sort();
            c
        })
        .collect();
    knots.sort();
    knots
}

struct Tarjan<'g> {
    graph: &'g Graph,
    index: BTreeMap<&'g str, usize>,
    low: BTreeMap<&'g str, usize>,
    stack: Vec<&'g str>,
    on_stack: BTreeSet<&'g str>,
    found: Vec<Vec<&'g str>>,
}

impl<'g> Tarjan<'g> {
    fn visit(&mut self, node: &'g str) {
        let n = self.index.len();
        self.index.insert(node, n);
        self.low.insert(node, n);
        self.stack.push(node);
        self.on_stack.insert(node);
        for next in &self.graph[node] {
            let next = next.as_str();
            if !self.index.contains_key(next) {
                self.visit(next);
                let low = self.low[node].min(self.low[next]);
                self.low.insert(node, low);
            } else if self.on_stack.contains(next) {
                let low = self.low[node].min(self.index[next]);
                self.low.insert(node, low);
            }
        }
        if self.low[node] == self.index[node] {
            let mut component = Vec::new();
            while let Some(top) = self.stack.pop() {
                self.on_stack.remove(top);
                component.push(top);
                if top == node {
                    break;
                }
            }
            self.found.push(component);
        }
    }
}

/// A shortest cycle through the first node of `knot`, inside `knot`: `[a, b, c, a]`.
pub(crate) fn shortest_cycle(graph: &Graph, knot: &[String]) -> Vec<String> {
    let members: BTreeSet<&str> = knot.iter().map(String::as_str).collect();
    let start = knot[0].as_str();
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in graph[node].iter().map(String::as_str).filter(|n| members.contains(n)) {
            if next == start {
                let mut cycle = vec![start.to_string()];
                let mut at = node;
                while at != start {
                    cycle.push(at.to_string());
                    at = came_from[at];
                }
                cycle.push(start.to_string());
                cycle.reverse();
                return cycle;
            }
            if !came_from.contains_key(next) {
                came_from.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    knot.to_vec() // unreachable for a real component
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph::new();
        for (from, to) in edges {
            add_edge(&mut g, from, to);
        }
        g
    }

    #[test]
    fn knots_are_the_components_with_a_cycle() {
        let g = graph(&[
            ("a", "b"),
            ("b", "c"),
            ("c", "a"),
            ("c", "d"),
            ("d", "e"),
            ("e", "d"),
            ("f", "f"),
        ]);
        assert_eq!(knots(&g), [vec!["a", "b", "c"], vec!["d", "e"]]);
        assert!(knots(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])).is_empty());
    }

    #[test]
    fn shortest_cycle_goes_back_to_the_first_node() {
        let g = graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("b", "a")]);
        let knot = &knots(&g)[0];
        assert_eq!(shortest_cycle(&g, knot), ["a", "b", "a"]);
    }
}
