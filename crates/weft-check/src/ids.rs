//! Ids of the checker that cannot be mixed with one another or with other
//! numbers, and [`IdVec`], a list indexed by one kind of id.
//!
//! A rule id is not a record id: each kind is its own type, so a function
//! that takes a [`RuleId`] cannot be handed a [`RecordId`] or a bare
//! position by mistake. The typed program ([`crate::hir`]) stores its
//! declarations in [`IdVec`]s indexed by these ids; the semantic model names
//! declarations through [`crate::model::Target`], whose variants carry them.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, Index, IndexMut};

/// An id: a position in one [`IdVec`], of one kind.
pub trait Id: Copy + Eq + std::hash::Hash + Ord + fmt::Debug {
    /// The id of the `index`-th element.
    fn new(index: usize) -> Self;
    /// The element's position.
    fn index(self) -> usize;
}

macro_rules! define_ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        #[repr(transparent)]
        pub struct $name(u32);

        impl $name {
            /// The id of the `index`-th element (saturating: a program never
            /// holds 2³² declarations of one kind).
            pub fn new(index: usize) -> $name {
                $name(u32::try_from(index).unwrap_or(u32::MAX))
            }

            /// The element's position.
            pub fn index(self) -> usize {
                self.0 as usize
            }

            /// The number as stored in lowered programs and data files.
            pub fn raw(self) -> u32 {
                self.0
            }

            /// The id of a stored number (the inverse of [`Self::raw`]).
            pub fn from_raw(raw: u32) -> $name {
                $name(raw)
            }
        }

        impl Id for $name {
            fn new(index: usize) -> $name {
                $name::new(index)
            }
            fn index(self) -> usize {
                self.0 as usize
            }
        }

        /// The bare number, as in generated names and lowered programs.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    )*};
}

define_ids! {
    /// A module of the policy, by its position in the list given to
    /// [`crate::check`].
    ModuleId;
    /// An enum declaration.
    EnumId;
    /// A record declaration.
    RecordId;
    /// A field of one record, by its position in the record's fields.
    FieldId;
    /// A parameter.
    ParamId;
    /// A rule (including tables, scales and cascades).
    RuleId;
    /// A local variable: a rule parameter, a `let`, an aggregation or match
    /// binding.
    LocalId;
    /// An output, by its position in the program's outputs.
    OutputId;
}

impl RecordId {
    /// Stands for no record where one could not be resolved (an output
    /// whose `for` names no record): never an index.
    pub const NONE: RecordId = RecordId(u32::MAX);
}

/// What [`IdVec::get`] takes: the list's own kind of id, or a raw
/// position (the lowered program and the engines keep ids as bare numbers).
pub trait At<I> {
    fn position(self) -> usize;
}

impl<I: Id> At<I> for I {
    fn position(self) -> usize {
        self.index()
    }
}

impl<I: Id> At<I> for usize {
    fn position(self) -> usize {
        self
    }
}

/// A list indexed by one kind of id: `rules[rid]` with a [`RuleId`], never
/// with a record id. It reads as a slice (`iter`, `len`, `last`...).
#[derive(Clone, PartialEq, Eq)]
pub struct IdVec<I, T> {
    items: Vec<T>,
    _id: PhantomData<fn(I) -> I>,
}

impl<I: Id, T> IdVec<I, T> {
    pub fn new() -> Self {
        IdVec {
            items: Vec::new(),
            _id: PhantomData,
        }
    }

    /// Adds an element and returns its id.
    pub fn push(&mut self, item: T) -> I {
        self.items.push(item);
        I::new(self.items.len() - 1)
    }

    /// The element of an id, or of a raw position (as the lowered program
    /// stores it); never of another kind of id.
    pub fn get(&self, at: impl At<I>) -> Option<&T> {
        self.items.get(at.position())
    }

    pub fn get_mut(&mut self, at: impl At<I>) -> Option<&mut T> {
        self.items.get_mut(at.position())
    }

    /// The id the next [`Self::push`] returns.
    pub fn next_id(&self) -> I {
        I::new(self.items.len())
    }

    /// Every id, in order.
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = I> + ExactSizeIterator + use<I, T> {
        (0..self.items.len()).map(I::new)
    }

    /// Every element with its id, in order.
    pub fn iter_enumerated(&self) -> impl DoubleEndedIterator<Item = (I, &T)> + ExactSizeIterator {
        self.items.iter().enumerate().map(|(i, t)| (I::new(i), t))
    }

    /// Every element with its id, mutably.
    pub fn iter_enumerated_mut(&mut self) -> impl Iterator<Item = (I, &mut T)> {
        self.items
            .iter_mut()
            .enumerate()
            .map(|(i, t)| (I::new(i), t))
    }

    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.items.iter_mut()
    }

    pub fn as_slice(&self) -> &[T] {
        &self.items
    }

    pub fn into_vec(self) -> Vec<T> {
        self.items
    }
}

impl<I: Id, T> Default for IdVec<I, T> {
    fn default() -> Self {
        IdVec::new()
    }
}

impl<I, T: fmt::Debug> fmt::Debug for IdVec<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.items.fmt(f)
    }
}

impl<I, T> From<Vec<T>> for IdVec<I, T> {
    fn from(items: Vec<T>) -> Self {
        IdVec {
            items,
            _id: PhantomData,
        }
    }
}

impl<I: Id, T> FromIterator<T> for IdVec<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Self {
        IdVec::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<I, T> Deref for IdVec<I, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<I: Id, T> Index<I> for IdVec<I, T> {
    type Output = T;
    fn index(&self, id: I) -> &T {
        &self.items[id.index()]
    }
}

impl<I: Id, T> IndexMut<I> for IdVec<I, T> {
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.items[id.index()]
    }
}

impl<'a, I, T> IntoIterator for &'a IdVec<I, T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<'a, I, T> IntoIterator for &'a mut IdVec<I, T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter_mut()
    }
}

impl<I, T> IntoIterator for IdVec<I, T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_index_their_own_list() {
        let mut rules: IdVec<RuleId, &str> = IdVec::new();
        let a = rules.push("a");
        let b = rules.push("b");
        assert_eq!((a.index(), b.index()), (0, 1));
        assert_eq!(rules[b], "b");
        assert_eq!(rules.next_id(), RuleId::new(2));
        let all: Vec<(RuleId, &&str)> = rules.iter_enumerated().collect();
        assert_eq!(all, vec![(a, &"a"), (b, &"b")]);
        assert_eq!(rules.get(RuleId::new(5)), None);
        assert_eq!(format!("{a:?}"), "RuleId(0)");
        assert_eq!(RuleId::from_raw(b.raw()), b);
    }
}
