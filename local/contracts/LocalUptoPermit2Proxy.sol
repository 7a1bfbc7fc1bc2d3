// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignatureTransfer} from "./LocalPermit2.sol";

/**
 * @title LocalUptoPermit2Proxy
 * @notice The x402 `upto` settlement contract for the LOCAL test chain, written from the ABI and
 * typed data in the x402 EVM package (npm): the payer signs a Permit2 witness transfer of at most
 * `permit.permitted.amount`, naming this contract as spender and, in the witness, the payee (`to`),
 * the one facilitator allowed to settle (`facilitator`) and the earliest settlement time
 * (`validAfter`). The facilitator settles the actual amount, once.
 *
 * What the signature alone cannot enforce, this contract does: only the named facilitator may
 * settle, never more than the signed maximum, never before `validAfter`, always to the signed
 * payee (the witness hash is rebuilt from the fields passed in, so any change breaks the
 * signature). Permit2 enforces the signature, deadline, nonce (single use) and maximum again.
 *
 * Only `settle` is implemented: `settleWithPermit` (an EIP-2612 permit first, for tokens without
 * a prior Permit2 approval) would need EIP-2612 on the local token, which it does not have. No
 * reentrancy guard: the token and Permit2 on the local chain are this repository's own contracts.
 *
 * The local chain installs the runtime code at the proxy's canonical address
 * 0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002 with `hardhat_setCode` (no constructor, no storage).
 */
contract LocalUptoPermit2Proxy {
    struct Witness {
        address to;
        address facilitator;
        uint256 validAfter;
    }

    /// @notice Permit2's canonical address (where the local chain installs LocalPermit2).
    ISignatureTransfer public constant PERMIT2 = ISignatureTransfer(0x000000000022D473030F116dDEE9F6B43aC78BA3);
    bytes32 public constant WITNESS_TYPEHASH = keccak256("Witness(address to,address facilitator,uint256 validAfter)");
    /// @notice The witness part of the EIP-712 type string, as Permit2 appends it to its stub.
    string public constant WITNESS_TYPE_STRING =
        "Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,address facilitator,uint256 validAfter)";

    event Settled();

    error AmountExceedsPermitted();
    error InvalidDestination();
    error InvalidOwner();
    error PaymentTooEarly();
    error UnauthorizedFacilitator();

    /// @notice Transfers `amount` (≤ the signed maximum) from `owner` to `witness.to`; callable only by `witness.facilitator`.
    function settle(
        ISignatureTransfer.PermitTransferFrom calldata permit,
        uint256 amount,
        address owner,
        Witness calldata witness,
        bytes calldata signature
    ) external {
        if (owner == address(0)) revert InvalidOwner();
        if (witness.to == address(0)) revert InvalidDestination();
        if (msg.sender != witness.facilitator) revert UnauthorizedFacilitator();
        if (block.timestamp < witness.validAfter) revert PaymentTooEarly();
        if (amount > permit.permitted.amount) revert AmountExceedsPermitted();

        bytes32 witnessHash = keccak256(abi.encode(WITNESS_TYPEHASH, witness.to, witness.facilitator, witness.validAfter));
        PERMIT2.permitWitnessTransferFrom(
            permit,
            ISignatureTransfer.SignatureTransferDetails({to: witness.to, requestedAmount: amount}),
            owner,
            witnessHash,
            WITNESS_TYPE_STRING,
            signature
        );
        emit Settled();
    }
}
